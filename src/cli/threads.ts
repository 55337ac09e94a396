import { availableParallelism } from 'node:os';
import type { Project } from '../project/types.js';

/**
 * Nodes run at once unless `--threads`, weir.config.ts or the profile says otherwise: the cores
 * plus two, as ninja does. A node spends part of its time waiting (Parquet files written, the
 * Delta commit synced to disk, the next statement handed to DuckDB), so as many nodes as cores
 * leave cores idle: on 2 cores, 4 nodes at once build the 200-model benchmark project about 10%
 * faster than 2 (docs/architecture.md). DuckDB's own threads stay at the number of cores.
 */
export function defaultThreads(): number {
  return availableParallelism() + 2;
}

/** `--threads`, else the project's setting, else `defaultThreads()`. */
export function threadsFor(project: Project, flag?: number): number {
  return flag ?? project.weir.threads ?? project.target.threads ?? defaultThreads();
}
