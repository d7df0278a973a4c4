#!/usr/bin/env node
// Committed launcher: npm links workspace bins at install time, before any
// build, so this file must exist in the clone. It runs the bundle `npm run
// build` makes (build.mjs: one CommonJS file, not ~50 ES modules), and is
// CommonJS itself (bin/package.json) so node does not set up its ES module
// loader for the entry point.
//
// Node 20 has no module.enableCompileCache (22+), so the launcher keeps V8's
// code cache of the bundle itself: compiled through vm.Script with the cache
// beside the bundle, written after the first command (so it holds the
// functions that command compiled). The cache's name carries the bundle's
// size and mtime, and build.mjs deletes old ones: V8 itself checks only the
// source length. Without write access the cache is just not kept.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire } = require('node:module');

const bundle = path.join(__dirname, '..', 'dist', 'berth.bundle.cjs');
let source;
let stat;
try {
  source = fs.readFileSync(bundle, 'utf8');
  stat = fs.statSync(bundle);
} catch {
  process.stderr.write('berth: berth is not built yet: run npm run build (from the repository root)\n');
  process.exit(125);
}
const cacheFile = `${bundle}.${stat.size}-${Math.trunc(stat.mtimeMs)}.v8cache`;
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  // first run after a build, or never written: compile without
}
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __berthImport) {${source}\n})`, { filename: bundle, cachedData });
const module_ = { exports: {} };
script.runInThisContext()(module_.exports, createRequire(bundle), module_, bundle, path.dirname(bundle), (specifier) => import(specifier));

function keepCache() {
  if (cachedData !== undefined && !script.cachedDataRejected) return;
  try {
    const temporary = `${cacheFile}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, script.createCachedData());
    fs.renameSync(temporary, cacheFile);
  } catch {
    // a read-only install: run without a cache
  }
}

module_.exports.run(process.argv.slice(2)).then((code) => {
  keepCache();
  process.exit(code);
});
