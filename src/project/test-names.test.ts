import { describe, expect, it } from 'vitest';
import { pyStr, synthesizeTestNames } from './test-names.js';

describe('dbt generic test names', () => {
  it('matches the names dbt gives the jaffle_shop tests', () => {
    expect(synthesizeTestNames('unique', 'customers', { column_name: 'customer_id' }, false)).toEqual({
      fullName: 'unique_customers_customer_id',
      shortName: 'unique_customers_customer_id',
    });
    const values = ['placed', 'shipped', 'completed', 'return_pending', 'returned'];
    expect(
      synthesizeTestNames('accepted_values', 'orders', { values, column_name: 'status' }, false),
    ).toEqual({
      fullName: 'accepted_values_orders_status__placed__shipped__completed__return_pending__returned',
      // dbt's alias for this test in the jaffle_shop manifest
      shortName: 'accepted_values_orders_1ce6ab157c285f7cd2ac656013faf758',
    });
    expect(
      synthesizeTestNames(
        'relationships',
        'orders',
        { to: "ref('customers')", field: 'customer_id', column_name: 'customer_id' },
        false,
      ).fullName,
    ).toBe('relationships_orders_customer_id__customer_id__ref_customers_');
  });

  it('prefixes source tests and namespaced tests as dbt does', () => {
    expect(synthesizeTestNames('not_null', 'jaffle_orders', { column_name: 'id' }, true).fullName).toBe(
      'source_not_null_jaffle_orders_id',
    );
    expect(
      synthesizeTestNames('dbt_utils.expression_is_true', 'orders', { expression: 'amount >= 0' }, false)
        .fullName,
    ).toBe('dbt_utils_expression_is_true_orders_amount_0');
  });

  it('uses Python str() for values and shortens at 64 characters', () => {
    expect(
      synthesizeTestNames(
        'accepted_values',
        'o',
        { column_name: 'f', values: [true, 1, null], quote: false },
        false,
      ).fullName,
    ).toBe('accepted_values_o_f__False__True__1__None');
    const long = synthesizeTestNames(
      'expect_column_values_to_be_between',
      'a_rather_long_model_name',
      { column_name: 'customer_lifetime_value' },
      false,
    );
    expect(long.fullName.length).toBeGreaterThanOrEqual(64);
    expect(long.shortName).toMatch(/^expect_column_values_to_be_bet_[0-9a-f]{32}$/);
    expect(long.shortName.length).toBeLessThan(64);
  });

  it('renders nested values like Python', () => {
    expect(pyStr({ a: 'x', b: [1, 'y'] })).toBe("{'a': 'x', 'b': [1, 'y']}");
  });
});
