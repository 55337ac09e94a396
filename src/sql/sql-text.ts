/**
 * Small, dialect-light operations on compiled SQL text. They only need to tell code from
 * comments and quoted text, so a scanner is enough; no SQL parser is involved.
 */

/** Offset just after the quoted text or comment starting at `i`, or -1 if none starts there. */
function skipQuotedOrComment(sql: string, i: number): number {
  const c = sql.charCodeAt(i);
  const next = sql.charCodeAt(i + 1);
  if (c === 45 /* - */ && next === 45) {
    const end = sql.indexOf('\n', i + 2);
    return end === -1 ? sql.length : end + 1;
  }
  if (c === 47 /* / */ && next === 42 /* * */) {
    const end = sql.indexOf('*/', i + 2);
    return end === -1 ? sql.length : end + 2;
  }
  if (c === 39 /* ' */ || c === 34 /* " */) {
    const quote = sql.charAt(i);
    let j = i + 1;
    for (;;) {
      const end = sql.indexOf(quote, j);
      if (end === -1) return sql.length;
      // A doubled quote is an escaped quote inside the literal.
      if (sql.charAt(end + 1) === quote) {
        j = end + 2;
        continue;
      }
      return end + 1;
    }
  }
  if (c === 36 /* $ */) {
    const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i, i + 64));
    if (tag) {
      const end = sql.indexOf(tag[0], i + tag[0].length);
      return end === -1 ? sql.length : end + tag[0].length;
    }
  }
  return -1;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13 || code === 12;
}

/** Offset of the first character that is neither whitespace nor part of a comment. */
export function skipLeadingTrivia(sql: string, from = 0): number {
  let i = from;
  while (i < sql.length) {
    const code = sql.charCodeAt(i);
    if (isSpace(code)) {
      i++;
      continue;
    }
    const isComment =
      (code === 45 && sql.charCodeAt(i + 1) === 45) || (code === 47 && sql.charCodeAt(i + 1) === 42);
    if (!isComment) return i;
    i = skipQuotedOrComment(sql, i);
  }
  return i;
}

/** End offset (exclusive) of the last character that is code, not whitespace or a comment. */
function lastCodeEnd(sql: string): number {
  let end = 0;
  let i = 0;
  while (i < sql.length) {
    const code = sql.charCodeAt(i);
    if (isSpace(code)) {
      i++;
      continue;
    }
    const skipped = skipQuotedOrComment(sql, i);
    if (skipped === -1) {
      i++;
      end = i;
    } else {
      const isComment = code === 45 || code === 47;
      i = skipped;
      if (!isComment) end = i;
    }
  }
  return end;
}

/**
 * Removes the statement terminator(s) so the SQL can be wrapped (`create table x as (...)`, a CTE):
 * trailing `;` and whatever whitespace and comments follow them. Without a trailing `;`, only
 * trailing whitespace is removed.
 */
export function stripTrailingSemicolon(sql: string): string {
  // Without any `;` the scan below could only end in trimEnd().
  if (!sql.includes(';')) return sql.trimEnd();
  let out = sql;
  for (;;) {
    const end = lastCodeEnd(out);
    if (end === 0 || out.charAt(end - 1) !== ';') return out.trimEnd();
    out = out.slice(0, end - 1);
  }
}

export interface Cte {
  /** The identifier the CTE is referenced by (what ref() rendered to, e.g. `__dbt__cte__orders`). */
  readonly name: string;
  readonly sql: string;
}

/**
 * Prepends CTEs to a query, as dbt does for ephemeral models: merged into the query's own
 * leading `WITH` when it has one (after any leading comments), otherwise as a new `with` clause.
 * CTEs come out in the order given, so list dependencies first.
 */
export function injectCtes(sql: string, ctes: readonly Cte[]): string {
  if (ctes.length === 0) return sql;
  const body = ctes.map((c) => `${c.name} as (\n${stripTrailingSemicolon(c.sql)}\n)`).join(', ');
  const start = skipLeadingTrivia(sql);
  const leading = sql.slice(0, start);
  const rest = sql.slice(start);
  const withClause = /^with(\s+recursive)?\b/i.exec(rest);
  if (withClause) {
    const keyword = withClause[0];
    const afterKeyword = rest.slice(keyword.length).replace(/^\s+/, '');
    return `${leading}${keyword} ${body}, ${afterKeyword}`;
  }
  return `${leading}with ${body}\n${rest}`;
}
