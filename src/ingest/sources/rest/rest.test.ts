import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from './http-client.js';
import { firstMatch, linkHeaderNext, selectRecords } from './paginators.js';
import { fillPlaceholders } from './rest-source.js';

describe('rest helpers', () => {
  it('reads Retry-After as seconds or an HTTP-date', () => {
    const now = Date.parse('2024-05-01T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Wed, 01 May 2024 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 01 May 2024 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backs off exponentially with full jitter under a cap', () => {
    expect(backoffDelay(1, 100, 10_000, () => 0.999)).toBe(99);
    expect(backoffDelay(4, 100, 10_000, () => 0.5)).toBe(400);
    expect(backoffDelay(20, 100, 10_000, () => 0.5)).toBe(5000);
    expect(backoffDelay(3, 100, 10_000, () => 0)).toBe(0);
  });

  it('finds rel="next" in an RFC 8288 Link header', () => {
    const h = '<https://a.test/x?page=1>; rel="prev", <https://a.test/x?page=3>; rel="next last"';
    expect(linkHeaderNext(h)).toBe('https://a.test/x?page=3');
    expect(linkHeaderNext(h, 'prev')).toBe('https://a.test/x?page=1');
    expect(linkHeaderNext('<https://a.test/x>; rel=first')).toBeUndefined();
    expect(linkHeaderNext(null)).toBeUndefined();
  });

  it('selects records with JSONPath or by convention', () => {
    const body = { meta: { next: 'abc' }, data: [{ id: 1 }, { id: 2 }] };
    expect(selectRecords(body, '$.data')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(selectRecords(body, '$.data[*].id')).toEqual([1, 2]);
    expect(selectRecords(body, undefined)).toEqual([{ id: 1 }, { id: 2 }]);
    expect(selectRecords([{ a: 1 }], undefined)).toEqual([{ a: 1 }]);
    expect(selectRecords({ a: 1 }, undefined)).toEqual([{ a: 1 }]);
    expect(firstMatch('$.meta.next', body)).toBe('abc');
  });

  it('fills incremental and parent placeholders, or says a value is missing', () => {
    const scope = {
      incremental: { start_value: '2024-01-01T00:00:00Z' },
      parent: { id: 7, org: { slug: 'a b' } },
    };
    expect(fillPlaceholders('/orgs/{parent.org.slug}/orders/{parent.id}', scope, true)).toBe(
      '/orgs/a%20b/orders/7',
    );
    expect(fillPlaceholders('{incremental.start_value}', scope)).toBe('2024-01-01T00:00:00Z');
    expect(fillPlaceholders('{incremental.end_value}', scope)).toBeUndefined();
    expect(fillPlaceholders('plain', {})).toBe('plain');
  });
});
