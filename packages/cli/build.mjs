#!/usr/bin/env node
// Bundles the CLI (tsc's dist/main.js and what it imports) into one file,
// dist/berth.bundle.cjs, which bin/berth.js runs: node then reads and compiles
// one file instead of resolving and loading ~50 ES modules (issue 16: the
// module graph cost ~50 ms of each `berth run`). Command modules stay behind
// their dynamic import(): esbuild wraps each in an init function run on
// first import, so a command evaluates only its own code. CommonJS, not an
// ES module: esbuild then puts each module's require() of a node builtin
// inside its init function, where an ES module bundle hoists every import to
// the top (a `berth run` would load readline, child_process and fs/promises
// for commands it does not run), and node skips its ES module loader.
//
// Left outside the bundle: what loads native addons or worker files
// (@berth/supervisor's daemon, @berth/layers' store), loaded from
// node_modules only by the commands that need them.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outfile = join(here, 'dist', 'berth.bundle.cjs');

await build({
  entryPoints: [join(here, 'dist', 'main.js')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Less source for V8 to scan on every start; the source map keeps stack traces readable.
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  external: ['@berth/supervisor', '@berth/layers', '@berth/volumes'],
  // The sources locate package.json and bin/berth.js from import.meta.url;
  // the bundle sits in dist/ beside main.js, so its own URL serves.
  define: { 'import.meta.url': '__berthBundleUrl' },
  banner: {
    js: [
      'const __berthBundleUrl = require("node:url").pathToFileURL(__filename).href;',
      // bin/berth.js compiles the bundle with V8's code cache (vm.Script), where
      // a bare import() needs node's experimental vm loader; it passes its own
      // import() as __berthImport instead. A plain require() has none.
      'const __berthLoad = typeof __berthImport === "function" ? __berthImport : (s) => import(s);',
    ].join('\n'),
  },
  logLevel: 'warning',
});

// The external packages' import() calls go through __berthLoad (see the banner).
const text = readFileSync(outfile, 'utf8');
const calls = text.split('import("@berth/').length - 1;
if (calls === 0 || /\bimport\((?!s\))/.test(text.replaceAll('import("@berth/', ''))) {
  throw new Error(`build.mjs: expected only import("@berth/...") calls in the bundle (found ${calls}); route any other import() through __berthLoad`);
}
writeFileSync(outfile, text.replaceAll('import("@berth/', '__berthLoad("@berth/'));
// A code cache from an older bundle must never be used (V8 checks only the source length).
for (const name of readdirSync(join(here, 'dist'))) if (name.endsWith('.v8cache') || name.endsWith('.v8cache.commands')) rmSync(join(here, 'dist', name));
