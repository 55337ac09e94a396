import { describe, expect, it } from 'vitest';
import { suggest } from './suggest.js';

const models = ['stg_orders', 'stg_customers', 'stg_payments', 'customers', 'orders', 'int_order_payments'];

describe('suggest', () => {
  it('puts the closest name first', () => {
    expect(suggest('stg_ordrs', models)[0]).toBe('stg_orders');
    expect(suggest('custmers', models)[0]).toBe('customers');
  });

  it('ignores case', () => {
    expect(suggest('STG_ORDERS', models)[0]).toBe('stg_orders');
    expect(suggest('Customers', ['customers', 'customer'])).toEqual(['customers', 'customer']);
  });

  it('counts a swap of adjacent letters as one edit', () => {
    expect(suggest('tga', ['tag', 'fqn', 'path'])).toEqual(['tag']);
    expect(suggest('cofnig', ['config', 'file'])).toEqual(['config']);
  });

  it('finds names containing the word', () => {
    expect(suggest('payments', models)).toEqual(['stg_payments', 'int_order_payments']);
  });

  it('returns nothing for unrelated names', () => {
    expect(suggest('revenue', models)).toEqual([]);
    expect(suggest('foo', ['fqn', 'tag', 'path', 'file'])).toEqual([]);
    expect(suggest('x', models)).toEqual([]);
  });

  it('respects max and orders ties by name', () => {
    expect(suggest('order', ['orders', 'ordes', 'order_', 'orderz'], 2)).toEqual(['order_', 'orders']);
    expect(suggest('orders', models, 0)).toEqual([]);
  });

  it('accepts any iterable, once per candidate', () => {
    expect(suggest('stg_order', new Set(['stg_orders'])).length).toBe(1);
    expect(suggest('stg_order', ['stg_orders', 'stg_orders'])).toEqual(['stg_orders']);
    expect(suggest('stg_order', new Map([['stg_orders', 1]]).keys())).toEqual(['stg_orders']);
  });
});
