#!/usr/bin/env node
'use strict';
// The `weir` command. DuckDB statements and file I/O both run on libuv's thread pool, which has 4
// threads unless UV_THREADPOOL_SIZE says otherwise and is sized once, when first used. An ES
// module entry is read through that pool before its first line runs, so the size is set here, in
// a CommonJS entry, before the bundle (dist/bin/weir.js) loads. With 4 threads, a build running
// more than 4 nodes at once ran at most 4 statements at a time, and Delta commits' file writes
// waited behind long queries. Room for the default `--threads` (cores + 2), the query catalog's
// writer and file I/O.
if (!process.env.UV_THREADPOOL_SIZE) {
  const cores = require('node:os').availableParallelism();
  process.env.UV_THREADPOOL_SIZE = String(Math.min(128, Math.max(8, cores + 6)));
}
import('./weir.js');
