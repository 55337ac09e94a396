import { describe, expect, it } from 'vitest';
import { definePipeline, step } from '../src/index.js';
import { toRows } from '../src/orchestrate/pipeline/columnar.js';
import { toPipelineSpec } from '../src/orchestrate/pipeline/load-pipelines.js';
import { runPipeline } from '../src/orchestrate/pipeline/run-pipeline.js';
import type { RunEvent } from '../src/orchestrate/run.js';
import { silentLogger } from '../src/core/logger.js';
import { BASE_PROJECT, openProject, writeTree } from './orchestrate-helpers.js';

/** The shape of an Apache Arrow JS Table (numRows, schema.fields, getChild(name).get(i)). */
class FakeArrowTable {
  readonly schema: { fields: Array<{ name: string }> };
  constructor(private readonly cols: Record<string, ArrayLike<unknown>>) {
    this.schema = { fields: Object.keys(cols).map((name) => ({ name })) };
  }
  get numRows(): number {
    return Object.values(this.cols)[0]?.length ?? 0;
  }
  getChild(name: string): { get(i: number): unknown } | null {
    const c = this.cols[name];
    return c ? { get: (i: number) => c[i] } : null;
  }
}

const PROJECT = {
  ...BASE_PROJECT,
  'models/sources.yml':
    'version: 2\nsources:\n  - name: analytics\n    schema: analytics\n    tables:\n      - name: scores\n',
  'models/fct_scores.sql':
    "{{ config(materialized='table') }} select sum(total) as grand, count(*) as n from {{ source('analytics', 'scores') }}",
  'pipelines/scores.ts': `
import { pipeline } from 'weir';
export default pipeline('scores')
  .select('orders', 'fct_scores')
  .step('export_scores', async (ctx) => {
    const k = Number(ctx.params.k ?? 1);
    const r = await ctx.session.query('select id, id * ' + k + ' as total from main.orders');
    return r.rows;
  }, { inputs: ['orders'], output: 'analytics.scores' })
  .step('read_back', async (ctx) => {
    const r = await ctx.session.query('select grand, n from main.fct_scores');
    ctx.logger.info('read back', { row: r.rows[0] });
  }, { inputs: ['fct_scores'] });
`,
};

describe('TypeScript step outputs read by SQL models', () => {
  it('a model reading the step output through source() runs after the step in the same run and sees what it wrote', async () => {
    const dir = await writeTree(PROJECT);
    const p = await openProject(dir);
    try {
      // On the first run the step's table does not exist yet: the model must wait for the step.
      const first = await p.run('scores', { params: { k: 10 } });
      expect(
        first.results.map((r) => [r.nodeId, r.status]),
        first.results.map((r) => r.message).join('\n'),
      ).toEqual(
        expect.arrayContaining([
          ['step.scores.export_scores', 'success'],
          ['model.shop.fct_scores', 'success'],
          ['step.scores.read_back', 'success'],
        ]),
      );
      const events = await p.rt.state.listEvents(first.runId);
      const at = (type: string, node: string): number =>
        events.findIndex((e) => e.type === type && e.nodeId === node);
      expect(at('node_finished', 'step.scores.export_scores')).toBeGreaterThanOrEqual(0);
      expect(at('node_started', 'model.shop.fct_scores')).toBeGreaterThan(
        at('node_finished', 'step.scores.export_scores'),
      );
      // A second run with another factor: the model reads the new step output (100 + 200).
      const second = await p.run('scores', { params: { k: 100 } });
      expect(second.status).toBe('success');
      let grand: unknown;
      const spec = toPipelineSpec(
        definePipeline({
          name: 'probe',
          select: ['fct_scores'],
          exclude: ['fct_scores'],
          steps: [
            step(
              'probe',
              async (ctx) => {
                grand = (await ctx.session.query('select grand from main.fct_scores')).rows[0]?.['grand'];
              },
              { inputs: ['fct_scores'] },
            ),
          ],
        }),
        'inline',
      );
      p.pipelines.push(spec);
      expect((await p.run('probe')).status).toBe('success');
      expect(Number(grand)).toBe(300);
    } finally {
      await p.close();
    }
  });
});

describe('step events', () => {
  it('a step that times out (an error with no result) is reported finished once', async () => {
    const dir = await writeTree(BASE_PROJECT);
    const p = await openProject(dir);
    try {
      const spec = toPipelineSpec(
        definePipeline({
          name: 'slow',
          select: ['orders'],
          exclude: ['orders'],
          steps: [
            step('wait', (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', resolve)), {
              timeout: 50,
            }),
          ],
        }),
        'inline',
      );
      const events: RunEvent[] = [];
      const summary = await runPipeline(
        {
          ...p.ws,
          engine: p.rt.engine,
          lake: p.rt.lake,
          state: p.rt.state,
          orchestration: p.orch,
          logger: silentLogger,
          onEvent: (e) => events.push(e),
        },
        spec,
        { threads: 2, vars: {}, env: {} },
      );
      expect(summary.status).not.toBe('success');
      const finished = events.filter((e) => e.type === 'node_finished');
      expect(finished.map((e) => [e.result?.nodeId, e.result?.status])).toEqual([
        ['step.slow.wait', 'error'],
      ]);
      const recorded = (await p.rt.state.listEvents(summary.runId)).filter((e) => e.type === 'node_finished');
      expect(recorded).toHaveLength(1);
    } finally {
      await p.close();
    }
  });
});

describe('columnar step results', () => {
  it('toRows turns Arrow-like tables and { columns } into rows and leaves other values alone', () => {
    const arrow = new FakeArrowTable({ id: new Int32Array([1, 2]), big: [10n, 2n ** 60n], s: ['a', null] });
    expect(toRows(arrow)).toEqual([
      { id: 1, big: 10, s: 'a' },
      { id: 2, big: 2n ** 60n, s: null },
    ]);
    expect(toRows({ columns: { x: [1, 2], y: new Float64Array([0.5, 1.5]) } })).toEqual([
      { x: 1, y: 0.5 },
      { x: 2, y: 1.5 },
    ]);
    expect(toRows([new FakeArrowTable({ x: [1] }), { columns: { x: [2] } }])).toEqual([{ x: 1 }, { x: 2 }]);
    const other = { columns: 3 };
    expect(toRows(other)).toBe(other);
    const rows = [{ a: 1 }];
    expect(toRows(rows)).toBe(rows);
  });

  it('a step returning Arrow-like batches writes them as its Delta table', async () => {
    const dir = await writeTree(BASE_PROJECT);
    const p = await openProject(dir);
    try {
      let seen: readonly unknown[] = [];
      p.pipelines.push(
        toPipelineSpec(
          definePipeline({
            name: 'arrow',
            select: ['orders'],
            steps: [
              step(
                'emit',
                () => [
                  new FakeArrowTable({ id: new Int32Array([1, 2]), name: ['x', 'y'] }),
                  new FakeArrowTable({ id: new Int32Array([3]), name: ['z'] }),
                ],
                {
                  output: 'raw.arrow_out',
                },
              ),
              step(
                'check',
                async (ctx) => {
                  seen = (await ctx.session.query('select id, name from raw.arrow_out order by id')).rows;
                },
                { inputs: ['emit'] },
              ),
            ],
          }),
          'inline',
        ),
      );
      const summary = await p.run('arrow');
      expect(summary.status, summary.results.map((r) => r.message).join('\n')).toBe('success');
      expect(summary.results.find((r) => r.nodeId === 'step.arrow.emit')).toMatchObject({ rows: 3 });
      expect(seen.map((r) => ({ ...(r as object) }))).toEqual([
        { id: 1, name: 'x' },
        { id: 2, name: 'y' },
        { id: 3, name: 'z' },
      ]);
    } finally {
      await p.close();
    }
  });

  it("refuses a step whose output is a model's table, or another step's, with WEIR-O014", async () => {
    const dir = await writeTree(BASE_PROJECT);
    const p = await openProject(dir);
    try {
      const clash = toPipelineSpec(
        definePipeline({ name: 'clash', steps: [step('w', () => [{ a: 1 }], { output: 'main.orders' })] }),
        'inline',
      );
      const twice = toPipelineSpec(
        definePipeline({
          name: 'twice',
          steps: [
            step('a', () => [{ a: 1 }], { output: 'raw.x' }),
            step('b', () => [{ a: 2 }], { output: 'raw.x' }),
          ],
        }),
        'inline',
      );
      p.pipelines.push(clash, twice);
      await expect(p.run('clash')).rejects.toMatchObject({
        code: 'WEIR-O014',
        message: expect.stringContaining('is the table of model.shop.orders') as unknown,
      });
      await expect(p.run('twice')).rejects.toMatchObject({
        code: 'WEIR-O014',
        message: expect.stringContaining("step 'a' writes too") as unknown,
      });
      // The refused runs took no run slot.
      expect(await p.orch.listRunHeartbeats()).toEqual([]);
    } finally {
      await p.close();
    }
  });
});
