#!/usr/bin/env node
// Committed launcher: npm links workspace bins at install time, before any
// build, so this file must exist in the clone. It runs the bundle `npm run
// build` makes (build.mjs: one CommonJS file, not ~50 ES modules), and is
// CommonJS itself (bin/package.json) so node does not set up its ES module
// loader for the entry point.
//
// Node 20 has no module.enableCompileCache (22+), so the launcher keeps V8's
// code cache of the bundle itself: compiled through vm.Script with the cache
// beside the bundle. It holds the functions the commands run so far compiled:
// written again after a command it did not cover yet (listed beside it), so
// a `berth run` is not left compiling its code on every start because the
// first command after a build was `berth daemon`. The cache's name carries
// the bundle's size and mtime, and build.mjs deletes old ones: V8 itself
// checks only the source length. Without write access the cache is just not
// kept.
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
const coveredFile = `${cacheFile}.commands`;
let cachedData;
let covered = [];
try {
  cachedData = fs.readFileSync(cacheFile);
  covered = fs.readFileSync(coveredFile, 'utf8').split('\n').filter((c) => c !== '');
} catch {
  // first run after a build, or never written: compile without
}
// What ran (`run`, `image ls`); `-` when no command did (--version, --help).
let command = '-';
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __berthImport) {${source}\n})`, { filename: bundle, cachedData });
const module_ = { exports: {} };
script.runInThisContext()(module_.exports, createRequire(bundle), module_, bundle, path.dirname(bundle), (specifier) => import(specifier));

function keepCache() {
  const stale = cachedData === undefined || script.cachedDataRejected;
  if (!stale && covered.includes(command)) return;
  try {
    // The new cache holds what the old one did (deserialized, so compiled) and what this command compiled.
    const list = stale ? [command] : [...covered, command];
    for (const [file, data] of [[cacheFile, script.createCachedData()], [coveredFile, `${list.join('\n')}\n`]]) {
      const temporary = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, data);
      fs.renameSync(temporary, file);
    }
  } catch {
    // a read-only install: run without a cache
  }
}

module_.exports.run(process.argv.slice(2), { onCommand: (path) => { command = path; } }).then((code) => {
  keepCache();
  process.exit(code);
});
