import { quoteLiteral, type EngineSession } from '../../core/engine.js';
import { errorMessage } from '../../core/errors.js';
import { lakeError } from '../errors.js';
import type { ObjectStore } from '../object-store.js';
import { actionFromObject, type Action } from './actions.js';
import type { CheckpointRef } from './log-store.js';

/**
 * Reads the actions of a classic or multi-part Parquet checkpoint through the engine. Each row is
 * turned into JSON by DuckDB so that checkpoints written by any writer (extra columns such as
 * `stats_parsed`, missing optional ones) read the same way as commit lines.
 */
export async function readCheckpointActions(
  session: EngineSession,
  store: ObjectStore,
  ref: CheckpointRef,
  tablePath: string,
): Promise<Action[]> {
  if (ref.kind === 'v2') {
    throw lakeError(
      'unsupportedReaderFeature',
      `Table ${tablePath} has a V2 checkpoint at version ${ref.version}, which Weir cannot read`,
      {
        hint: 'V2 checkpoints are not supported yet; read the table with Spark or drop the v2Checkpoint feature.',
      },
    );
  }
  const files = ref.files.map((f) => quoteLiteral(store.localPath(f.path))).join(', ');
  const sql = `SELECT to_json(t)::VARCHAR AS j FROM read_parquet([${files}], union_by_name = true, hive_partitioning = false) AS t`;
  let rows;
  try {
    rows = (await session.query(sql)).rows;
  } catch (err) {
    throw lakeError(
      'corruptCheckpoint',
      `Cannot read the checkpoint of version ${ref.version} of table ${tablePath}: ${errorMessage(err)}`,
      {
        at: { file: ref.files[0]?.path ?? tablePath },
        hint: 'The checkpoint file is damaged. Delete it (and _last_checkpoint) so readers replay the JSON commits, then write a new checkpoint.',
        cause: err,
      },
    );
  }
  const file = ref.files[0]?.path ?? tablePath;
  const out: Action[] = [];
  rows.forEach((row, i) => {
    const text = row['j'];
    if (typeof text !== 'string') return;
    const action = actionFromObject(JSON.parse(text), { file, line: i + 1 });
    if (action) out.push(action);
  });
  return out;
}
