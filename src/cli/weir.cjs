#!/usr/bin/env node
'use strict';
// The `weir` command: sizes libuv's thread pool, then runs the bundle (weir-bundle.cjs) with a V8
// code cache.
//
// Thread pool: DuckDB statements and file I/O both run on libuv's thread pool, which has 4 threads
// unless UV_THREADPOOL_SIZE says otherwise and is sized once, when first used. So the size is set
// here, before anything reads a file through the pool. With 4 threads, a build running more than 4
// nodes at once ran at most 4 statements at a time, and Delta commits' file writes waited behind
// long queries. Room for the default `--threads` (cores + 2), the query catalog's writer and file
// I/O.
//
// Code cache: compiling the bundle's functions is about a fifth of a start. The bundle is compiled
// through node:vm with the code V8 produced for it on an earlier run of the same command, kept in
// the user's cache folder (WEIR_COMPILE_CACHE_DIR, else $XDG_CACHE_HOME/weir/compile or
// ~/.cache/weir/compile; WEIR_COMPILE_CACHE_DIR=off turns it off). The file's name carries the
// bundle's size and modification time, V8's version and Node's flags, so a rebuilt bundle,
// another Node or other flags get their own. V8 checks the code it is given and compiles from source when it refuses it, so a
// damaged or missing cache costs only the compile; the cache is then written again when the
// command ends. Nothing about it can change what a command does.
if (!process.env.UV_THREADPOOL_SIZE) {
  const cores = require('node:os').availableParallelism();
  process.env.UV_THREADPOOL_SIZE = String(Math.min(128, Math.max(8, cores + 6)));
}

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire, wrap } = require('node:module');

const bundle = path.join(__dirname, 'weir-bundle.cjs');
const cacheFile = codeCachePath();
let cached;
try {
  if (cacheFile) cached = fs.readFileSync(cacheFile);
} catch {
  // no cache yet
}
const script = new vm.Script(wrap(fs.readFileSync(bundle, 'utf8')), {
  filename: bundle,
  ...(cached ? { cachedData: cached } : {}),
});
if (cacheFile && (!cached || script.cachedDataRejected))
  process.once('exit', () => writeCodeCache(cacheFile));
const bundleModule = { exports: {}, id: bundle, filename: bundle, loaded: false };
script.runInThisContext()(bundleModule.exports, createRequire(bundle), bundleModule, bundle, __dirname);

/**
 * Where this bundle's code cache for this command lives, or undefined when caching is off. The
 * name: <install>-<build>-<runtime>-<command>.bin, where <install> stands for the bundle's path,
 * <build> for its size and modification time and <runtime> for V8's version, the CPU and Node's
 * flags (V8 refuses code compiled under other flags, so runs with other flags keep their own).
 */
function codeCachePath() {
  const configured = process.env.WEIR_COMPILE_CACHE_DIR;
  if (configured === 'off' || configured === '0') return undefined;
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME && path.join(process.env.HOME, '.cache'));
  const dir = configured || (base && path.join(base, 'weir', 'compile'));
  if (!dir) return undefined;
  const command = /^[a-z][a-z-]{0,30}$/.test(process.argv[2] ?? '') ? process.argv[2] : 'other';
  try {
    const s = fs.statSync(bundle);
    const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').trim();
    const runtime = `${process.versions.v8}-${process.arch}${flags ? `-${shortHash(flags)}` : ''}`;
    return path.join(
      dir,
      `${shortHash(bundle)}-${s.size}.${Math.trunc(s.mtimeMs)}-${runtime}-${command}.bin`,
    );
  } catch {
    return undefined;
  }
}

function shortHash(text) {
  return require('node:crypto').createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** Writes the code compiled so far (the command's functions included), whole or not at all. */
function writeCodeCache(file) {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(tmp, file);
    removeOldCaches(file);
  } catch {
    // a cache that cannot be written is only a slower start next time
  }
}

/**
 * Drops the caches of earlier builds of this install (same path, other size or time), and any
 * cache written over 30 days ago (one still in use is written again, once).
 */
function removeOldCaches(file) {
  const dir = path.dirname(file);
  const [install, build] = path.basename(file).split('-');
  const before = Date.now() - 30 * 24 * 3600 * 1000;
  for (const name of fs.readdirSync(dir)) {
    const other = path.join(dir, name);
    const [otherInstall, otherBuild] = name.split('-');
    try {
      if ((otherInstall === install && otherBuild !== build) || fs.statSync(other).mtimeMs < before)
        fs.rmSync(other, { force: true });
    } catch {
      // removed meanwhile
    }
  }
}
