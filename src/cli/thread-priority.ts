import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How much lower (in nice steps) worker threads run than the main thread. */
export const WORKER_NICE_STEP = 10;

/**
 * On Linux, lowers the scheduling priority of every thread of this process but the main one
 * (libuv's pool, DuckDB's workers, V8's helpers) to the main thread's nice value plus 10; the
 * main thread keeps its own. Returns the threads changed (0 elsewhere, or with
 * WEIR_WORKER_PRIORITY=same).
 *
 * Why: the main thread schedules every node, writes the state store and commits, so it is the
 * critical path of a build; everything else waits for it. With more runnable threads than cores,
 * each statement or file operation it hands to the pool wakes a thread that the kernel may run in
 * its place, and the whole build waits meanwhile. A lower priority for the workers makes the
 * kernel run the main thread first; the workers still have every core the main thread does not
 * use. Measured on 2 cores: the 200-model benchmark build 4-7% faster (medians of 8-16,
 * interleaved; docs/architecture.md).
 *
 * Linux applies `setpriority` on a thread id to that thread only. Raising a nice value needs
 * no privilege. Threads started later keep the main thread's priority; call again after
 * starting engines.
 */
export function lowerWorkerThreadPriority(): number {
  if (process.platform !== 'linux' || process.env['WEIR_WORKER_PRIORITY'] === 'same') return 0;
  let tids: string[];
  let nice: number;
  try {
    tids = readdirSync('/proc/self/task');
    nice = Math.min(19, getPriority(process.pid) + WORKER_NICE_STEP);
  } catch {
    return 0;
  }
  let changed = 0;
  for (const name of tids) {
    const tid = Number(name);
    if (!Number.isInteger(tid) || tid === process.pid) continue;
    try {
      if (getPriority(tid) < nice) {
        setPriority(tid, nice);
        changed++;
      }
    } catch {
      // the thread ended meanwhile, or the system refuses: nothing depends on it
    }
  }
  return changed;
}
