import { describe, expect, it } from 'vitest';
import { PyDateTime, PyTimedelta, pyEquals, pyRepr, pySlice, pyStr, pyTruthy } from './py-values.js';
import { TemplateEngine, type RenderContext } from './template-engine.js';

const ctx: RenderContext = {
  file: 'models/m.sql',
  ref: () => '',
  source: () => '',
  config: { set: () => undefined, get: () => undefined },
  vars: {},
  env: {},
  target: {},
  isIncremental: false,
  runStartedAt: new Date('2024-03-05T06:07:08Z'),
};

describe('Python values', () => {
  it('prints and compares like Python', () => {
    expect(pyStr([1, 'a', null, true, { k: [2] }])).toBe("[1, 'a', None, True, {'k': [2]}]");
    expect(pyRepr("it's")).toBe('"it\'s"');
    expect(pyStr(undefined)).toBe('');
    expect(pyEquals(1, '1')).toBe(false);
    expect(pyEquals([1, { a: 2 }], [1, { a: 2 }])).toBe(true);
    expect(pyEquals(null, undefined)).toBe(true);
    expect([[], {}, '', 0, null].map(pyTruthy)).toEqual([false, false, false, false, false]);
    expect([[0], { a: 1 }, ' ', -1].map(pyTruthy)).toEqual([true, true, true, true]);
  });

  it('slices strings and lists with Python semantics', () => {
    expect(pySlice('abcdef', 1, -1, null)).toBe('bcde');
    expect(pySlice('abcdef', null, null, -2)).toBe('fdb');
    expect(pySlice([1, 2, 3, 4], -2, null, null)).toEqual([3, 4]);
    expect(pySlice([1, 2, 3], 5, 10, 1)).toEqual([]);
  });

  it('formats datetimes and timedeltas like Python', () => {
    const d = new PyDateTime(new Date('2024-03-05T06:07:08Z'));
    expect(d.strftime('%Y-%m-%d %H:%M:%S %j %a %b')).toBe('2024-03-05 06:07:08 065 Tue Mar');
    expect(String(d.plus(-new PyTimedelta(7 * 86_400_000).milliseconds))).toBe('2024-02-27 06:07:08+00:00');
    expect(String(new PyTimedelta(90_061_000))).toBe('1 day, 1:01:01');
  });
});

describe('Python values in templates', () => {
  const engine = new TemplateEngine({ projectName: 'p', macroFiles: [] });

  it('supports datetime arithmetic through modules.datetime, as Jinja2 with datetime does', () => {
    // Reference output from Jinja2 3.1.6 with a timezone-aware datetime.
    expect(
      engine.render(
        "{{ run_started_at.strftime('%Y-%m-%d %H:%M:%S %j %a %b') }} {{ (run_started_at - modules.datetime.timedelta(days=7)).strftime('%Y-%m-%d') }} {{ run_started_at.isoformat() }} {{ run_started_at }}",
        ctx,
      ),
    ).toBe('2024-03-05 06:07:08 065 Tue Mar 2024-02-27 2024-03-05T06:07:08+00:00 2024-03-05 06:07:08+00:00');
  });

  it('supports filter blocks, raw blocks and caller arguments, as Jinja2 does', () => {
    expect(
      engine.render(
        "{% filter upper %}ab{{ 'c' }}{% endfilter %}|{% raw %}{{ x }}{% endraw %}|{% macro m() %}{{ caller('z') }}{% endmacro %}{% call(v) m() %}got {{ v }}{% endcall %}",
        ctx,
      ),
    ).toBe('ABC|{{ x }}|got z');
  });
});
