import type { WeirConfigInput } from './types.js';

/**
 * Typed helper for weir.config.ts: `export default defineConfig({ lake: './lake', threads: 4 })`.
 * It only returns its argument; the checking happens when the project is loaded. This file must
 * stay free of imports other than types, because weir.config.ts loads it on every start.
 */
export function defineConfig(config: WeirConfigInput): WeirConfigInput {
  return config;
}
