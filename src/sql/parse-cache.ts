import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { deserialize, serialize } from 'node:v8';
import { plainTree, type AstNode } from './nunjucks-parse.js';

/** Bumped whenever parsing gives different trees for the same text (nunjucks-parse.ts). */
const FORMAT = 1;

interface Encoded {
  readonly format: number;
  readonly parser: string;
  readonly trees: ReadonlyArray<readonly [string, AstNode]>;
}

/**
 * Syntax trees of templates kept between processes (partial parsing, as dbt keeps
 * `target/partial_parse.msgpack`): each tree is filed under a hash of its template's text, so a
 * template that has not changed since the last run is not parsed again. Only the parse is
 * skipped: every template is still rendered, so refs, configs, vars and env_var() are read anew
 * on each run. Trees are stored as plain data (`plainTree`) in V8's serialization format.
 *
 * What is written back is what this process looked up or added, so the trees of deleted files
 * drop out. A cache of another format or parser version is ignored.
 */
export class ParseCache {
  /** Trees looked up or added by this process. */
  private readonly used = new Map<string, AstNode>();
  private added = 0;

  private constructor(private readonly loaded: ReadonlyMap<string, AstNode>) {}

  static empty(): ParseCache {
    return new ParseCache(new Map());
  }

  /** The cache in `bytes` (from `encode`); an empty one when they are absent, damaged or stale. */
  static decode(bytes: Uint8Array | undefined): ParseCache {
    if (!bytes) return ParseCache.empty();
    try {
      const value = deserialize(bytes) as Partial<Encoded> | null;
      if (value?.format !== FORMAT || value.parser !== parserVersion() || !Array.isArray(value.trees))
        return ParseCache.empty();
      return new ParseCache(new Map(value.trees));
    } catch {
      return ParseCache.empty();
    }
  }

  get(template: string): AstNode | undefined {
    const key = keyOf(template);
    const tree = this.used.get(key) ?? this.loaded.get(key);
    if (tree) this.used.set(key, tree);
    return tree;
  }

  set(template: string, tree: AstNode): void {
    this.used.set(keyOf(template), plainTree(tree));
    this.added++;
  }

  /** Whether `encode` would give other trees than were loaded. */
  get changed(): boolean {
    return this.added > 0 || this.used.size !== this.loaded.size;
  }

  get size(): number {
    return this.used.size;
  }

  encode(): Buffer {
    const value: Encoded = { format: FORMAT, parser: parserVersion(), trees: [...this.used] };
    return serialize(value);
  }
}

function keyOf(template: string): string {
  return createHash('sha256').update(template).digest('base64url');
}

let parser: string | undefined;

/** The nunjucks release whose parser made the trees. */
function parserVersion(): string {
  parser ??= String(
    (createRequire(import.meta.url)('nunjucks/package.json') as { version?: unknown }).version,
  );
  return parser;
}
