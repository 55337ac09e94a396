import { JSONPath } from 'jsonpath-plus';
import type { PaginatorConfig } from './rest-config.js';

/** Where the next page is: new query params over the first request's, or a whole next URL. */
export type NextPage =
  { readonly params: Readonly<Record<string, string>> } | { readonly url: string } | null;

export interface PageResult {
  readonly url: string;
  readonly headers: Headers;
  readonly body: unknown;
  /** Records the data selector found on this page. */
  readonly count: number;
}

/** The first value a JSONPath finds in a document (undefined when none). */
export function firstMatch(path: string, json: unknown): unknown {
  if (json === null || typeof json !== 'object') return undefined;
  const found = JSONPath({ path, json: json as object, wrap: true }) as unknown[];
  return found[0];
}

/** The `rel="next"` target of an RFC 5988 / 8288 Link header. */
export function linkHeaderNext(header: string | null, rel = 'next'): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!m) continue;
    const rels = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(m[2] ?? '')?.[1]?.split(/\s+/) ?? [];
    if (rels.includes(rel)) return m[1];
  }
  return undefined;
}

/** A paginator: the params of the first page, then the next page from the last one (or null: done). */
export interface Paginator {
  first(): Readonly<Record<string, string>>;
  next(page: PageResult): NextPage;
}

export function makePaginator(config: PaginatorConfig | undefined): Paginator {
  const c = config ?? { type: 'single_page' as const };
  switch (c.type) {
    case 'single_page':
      return { first: () => ({}), next: () => null };
    case 'offset': {
      const offsetParam = c.offset_param ?? 'offset';
      const limitParam = c.limit_param ?? 'limit';
      let offset = c.initial_offset ?? 0;
      return {
        first: () => ({ [offsetParam]: String(offset), [limitParam]: String(c.limit) }),
        next: (page) => {
          offset += c.limit;
          const total = c.total_path ? Number(firstMatch(c.total_path, page.body)) : undefined;
          // A short page ends the listing even when no total is given.
          if (page.count < c.limit || (total !== undefined && Number.isFinite(total) && offset >= total))
            return null;
          return { params: { [offsetParam]: String(offset), [limitParam]: String(c.limit) } };
        },
      };
    }
    case 'page_number': {
      const param = c.page_param ?? 'page';
      let pageNo = c.base_page ?? 1;
      return {
        first: () => ({ [param]: String(pageNo) }),
        next: (page) => {
          const total = c.total_path ? Number(firstMatch(c.total_path, page.body)) : undefined;
          const base = c.base_page ?? 1;
          if (page.count === 0) return null;
          pageNo++;
          if (total !== undefined && Number.isFinite(total) && pageNo - base >= total) return null;
          return { params: { [param]: String(pageNo) } };
        },
      };
    }
    case 'cursor':
      return {
        first: () => ({}),
        next: (page) => {
          const token = firstMatch(c.cursor_path, page.body);
          if (token === undefined || token === null || token === '') return null;
          return { params: { [c.cursor_param]: String(token) } };
        },
      };
    case 'json_link':
      return {
        first: () => ({}),
        next: (page) => {
          const link = firstMatch(c.next_url_path, page.body);
          if (typeof link !== 'string' || link === '') return null;
          return { url: new URL(link, page.url).toString() };
        },
      };
    case 'header_link':
      return {
        first: () => ({}),
        next: (page) => {
          const link = linkHeaderNext(page.headers.get('link'), c.rel ?? 'next');
          return link ? { url: new URL(link, page.url).toString() } : null;
        },
      };
  }
}

const AUTO_KEYS = ['data', 'items', 'results', 'records', 'rows', 'entries', 'values'];

/**
 * The records of a page: the data selector's matches (a match that is an array is spread), or
 * without a selector the body itself when it is an array, else a well-known array key, else the
 * body as one record.
 */
export function selectRecords(body: unknown, selector: string | undefined): unknown[] {
  if (body === null || body === undefined) return [];
  if (selector) {
    if (typeof body !== 'object') return [];
    const found = JSONPath({ path: selector, json: body as object, wrap: true }) as unknown[];
    return found.length === 1 && Array.isArray(found[0]) ? found[0] : found;
  }
  if (Array.isArray(body)) return body;
  if (typeof body === 'object') {
    for (const k of AUTO_KEYS) {
      const v = (body as Record<string, unknown>)[k];
      if (Array.isArray(v)) return v;
    }
    return [body];
  }
  return [body];
}
