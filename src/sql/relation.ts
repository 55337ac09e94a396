/** What `{{ ref('m') }}`, `{{ source('s', 't') }}` and `{{ this }}` stand for in compiled SQL. */
export interface Relation {
  readonly database?: string;
  readonly schema: string;
  readonly identifier: string;
  /** Same as identifier (dbt's `this.name`). */
  readonly name: string;
  /** The quoted name, `"schema"."identifier"` (with `"database".` when set). */
  toString(): string;
}

/** `"name"`, doubling embedded quotes: safe for any identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

class QuotedRelation implements Relation {
  readonly database?: string;
  readonly schema: string;
  readonly identifier: string;

  constructor(schema: string, identifier: string, database?: string) {
    if (database !== undefined) this.database = database;
    this.schema = schema;
    this.identifier = identifier;
  }

  get name(): string {
    return this.identifier;
  }

  toString(): string {
    const head = this.database === undefined ? '' : `${quoteIdentifier(this.database)}.`;
    return `${head}${quoteIdentifier(this.schema)}.${quoteIdentifier(this.identifier)}`;
  }
}

export function createRelation(parts: { database?: string; schema: string; identifier: string }): Relation {
  return new QuotedRelation(parts.schema, parts.identifier, parts.database);
}
