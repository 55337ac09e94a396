import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { silentLogger } from '../src/core/logger.js';
import type { OrchestrationStore } from '../src/core/orchestration-store.js';
import { openRuntime, type Runtime } from '../src/cli/runtime.js';
import { openWorkspace, type Workspace } from '../src/cli/workspace.js';
import { loadPipelines, type PipelineSpec } from '../src/orchestrate/pipeline/load-pipelines.js';
import { runPipeline, type PipelineRunOptions } from '../src/orchestrate/pipeline/run-pipeline.js';
import type { RunSummary } from '../src/orchestrate/run.js';
import { openSqliteOrchestrationStore } from '../src/state/sqlite/sqlite-orchestration-store.js';

export async function writeTree(files: Readonly<Record<string, string>>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-orch-'));
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), text);
  }
  return dir;
}

export const BASE_PROJECT: Record<string, string> = {
  'dbt_project.yml': 'name: shop\nversion: "1.0"\nprofile: shop\n',
  'models/orders.sql': "select 1 as id, 'a' as name union all select 2, 'b'",
  'models/order_count.sql': 'select count(*) as n from {{ ref("orders") }}',
};

export interface Opened {
  readonly ws: Workspace;
  readonly rt: Runtime;
  readonly orch: OrchestrationStore;
  readonly pipelines: PipelineSpec[];
  run(name: string, options?: Partial<PipelineRunOptions>): Promise<RunSummary>;
  close(): Promise<void>;
}

export async function openProject(dir: string): Promise<Opened> {
  const ws = await openWorkspace({ projectDir: dir }, () => undefined);
  const rt = await openRuntime(ws.project, silentLogger, 2);
  const orch = await openSqliteOrchestrationStore(ws.project.weir.state.path);
  const pipelines = await loadPipelines(dir);
  return {
    ws,
    rt,
    orch,
    pipelines,
    run: (name, options = {}) => {
      const spec = pipelines.find((p) => p.name === name);
      if (!spec) throw new Error(`no pipeline ${name}`);
      return runPipeline(
        {
          ...ws,
          engine: rt.engine,
          lake: rt.lake,
          state: rt.state,
          orchestration: orch,
          logger: silentLogger,
        },
        spec,
        { threads: 2, vars: {}, env: {}, ...options },
      );
    },
    async close() {
      await orch.close();
      await rt.close();
    },
  };
}
