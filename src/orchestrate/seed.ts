import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { quoteLiteral } from '../core/engine.js';
import { WeirError } from '../core/errors.js';
import { materializeTable, type MaterializeContext, type MaterializeResult } from './materializations.js';

/**
 * Seeds: a CSV loaded through DuckDB's CSV reader with type inference over the whole file and
 * `column_types` overrides; a file the reader refuses is parsed line by line to name the ragged
 * row's line. A seed whose file and config did not change since its last load is not rewritten
 * (same contents, same version).
 */
export async function loadSeed(ctx: MaterializeContext): Promise<MaterializeResult> {
  const { node, table } = ctx;
  const csvPath = node.csvPath;
  if (!csvPath) throw new WeirError('WEIR-C003', `${node.id} has no CSV file`);
  const bytes = await readFile(csvPath);
  const delimiter = typeof node.config.delimiter === 'string' ? node.config.delimiter : ',';
  const columnTypes = (node.config.column_types ?? {}) as Record<string, string>;
  const inputHash = createHash('sha256')
    .update(bytes)
    .update(JSON.stringify({ delimiter, columnTypes }))
    .digest('hex');

  if (!ctx.fullRefresh && (await table.exists())) {
    const last = await table.lastCommitParameters();
    if (last?.['inputHash'] === inputHash) {
      return { rows: 0, bytes: 0, version: null, message: 'seed unchanged' };
    }
  }

  if (bytes.length === 0) throw emptySeed(node);
  const columns = Object.keys(columnTypes);
  if (columns.length > 0) {
    const header = checkCsv(bytes, delimiter, node, 1);
    for (const col of columns) {
      if (!header.includes(col)) {
        throw new WeirError(
          'WEIR-M012',
          `seed ${node.name}: column_types names '${col}', which is not in the header`,
          {
            at: { file: node.path, line: 1 },
            node: node.id,
            hint: `the header has: ${header.join(', ')}`,
          },
        );
      }
    }
  }
  const types = Object.entries(columnTypes)
    .map(([k, v]) => `${quoteLiteral(k)}: ${quoteLiteral(v)}`)
    .join(', ');
  const sql = `SELECT * FROM read_csv(${quoteLiteral(csvPath)}, header = true, auto_detect = true, sample_size = -1, delim = ${quoteLiteral(delimiter)}, quote = '"', escape = '"'${types ? `, types = {${types}}` : ''})`;
  // Like a table model: built in the run's engine (when it has room), so dependents read memory.
  try {
    return await materializeTable({ ...ctx, sql }, 'SEED', { inputHash });
  } catch (err) {
    // DuckDB's reader refuses a ragged file without saying where: the line comes from a parse
    // of the whole file, done only now (it would cost every seed load).
    checkCsv(bytes, delimiter, node);
    throw err;
  }
}

type SeedNode = MaterializeContext['node'];

/**
 * Parses the CSV (up to `toLine`), returning its header; a ragged row or unreadable text is
 * WEIR-M010 at its line, a file without a header WEIR-M011.
 */
function checkCsv(bytes: Buffer, delimiter: string, node: SeedNode, toLine?: number): string[] {
  const options = { delimiter, skip_empty_lines: true, bom: true };
  let records: string[][];
  try {
    records = parse(bytes, {
      ...options,
      ...(toLine !== undefined ? { to_line: toLine } : {}),
    }) as string[][];
  } catch (err) {
    const e = err as { code?: string; lines?: number; message?: string };
    const line = typeof e.lines === 'number' ? e.lines : undefined;
    const what =
      e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH'
        ? `row has a different number of fields than the header (${headerOf(bytes, options).length})`
        : (e.message ?? 'unreadable CSV').replace(/^Invalid Record Length: /, '');
    throw new WeirError('WEIR-M010', `seed ${node.name}: ${what}`, {
      at: { file: node.path, ...(line !== undefined ? { line } : {}) },
      node: node.id,
      hint: 'fix the line so every row has as many fields as the header (quote values that contain the delimiter)',
    });
  }
  const header = records[0] ?? [];
  if (header.length === 0) throw emptySeed(node);
  return header;
}

/** The first record alone, for an error message about a later one. */
function headerOf(bytes: Buffer, options: object): string[] {
  try {
    return (parse(bytes, { ...options, to_line: 1 }) as string[][])[0] ?? [];
  } catch {
    return [];
  }
}

function emptySeed(node: SeedNode): WeirError {
  return new WeirError('WEIR-M011', `seed ${node.name} is empty`, {
    at: { file: node.path, line: 1 },
    node: node.id,
    hint: 'a seed needs a header line',
  });
}
