import { WeirError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { StateStore } from '../core/state-store.js';

export const STATE_ERROR_CODE = 'WEIR-S001';

const HINT =
  'Check that the state database is writable and not corrupted, and that no other tool holds it locked; ' +
  'retry, or raise the busy timeout if many Weir processes write at once.';

/**
 * The one wrapper around every StateStore (as Kysely's RuntimeDriver): a debug line with the time
 * of each call, and driver errors turned into WeirError WEIR-S001 once. WeirErrors the store
 * raises on purpose (unknown run, schema too new) pass through unchanged.
 */
export function withStateRuntime(store: StateStore, logger: Logger): StateStore {
  const log = logger.child({ component: 'state' });

  async function call<T>(op: string, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      const result = await work();
      log.debug(`state ${op}`, { ms: Math.round((performance.now() - start) * 10) / 10 });
      return result;
    } catch (err) {
      const ms = Math.round((performance.now() - start) * 10) / 10;
      const wrapped =
        err instanceof WeirError
          ? err
          : new WeirError(STATE_ERROR_CODE, `State store ${op} failed: ${errorMessage(err)}`, {
              hint: HINT,
              cause: err,
              data: { op, driverCode: (err as { code?: unknown } | null)?.code },
            });
      log.debug(`state ${op} failed`, { ms, code: wrapped.code });
      throw wrapped;
    }
  }

  return {
    init: () => call('init', () => store.init()),
    createRun: (run) => call('createRun', () => store.createRun(run)),
    updateRun: (runId, patch) => call('updateRun', () => store.updateRun(runId, patch)),
    getRun: (runId) => call('getRun', () => store.getRun(runId)),
    listRuns: (query) => call('listRuns', () => store.listRuns(query)),
    putNodeResult: (result, catalogEntry) =>
      call('putNodeResult', () => store.putNodeResult(result, catalogEntry)),
    listNodeResults: (runId) => call('listNodeResults', () => store.listNodeResults(runId)),
    nodeHistory: (assetOrNodeId, limit) => call('nodeHistory', () => store.nodeHistory(assetOrNodeId, limit)),
    appendEvent: (event) => call('appendEvent', () => store.appendEvent(event)),
    appendEvents: (events) => call('appendEvents', () => store.appendEvents(events)),
    listEvents: (runId, nodeId) => call('listEvents', () => store.listEvents(runId, nodeId)),
    putCatalogEntry: (entry) => call('putCatalogEntry', () => store.putCatalogEntry(entry)),
    getCatalogEntry: (asset) => call('getCatalogEntry', () => store.getCatalogEntry(asset)),
    listCatalog: () => call('listCatalog', () => store.listCatalog()),
    deleteCatalogEntry: (asset) => call('deleteCatalogEntry', () => store.deleteCatalogEntry(asset)),
    close: () => call('close', () => store.close()),
  };
}
