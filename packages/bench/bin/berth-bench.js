#!/usr/bin/env node
// Committed launcher: the benchmark suite lives in dist; this only forwards to it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('berth-bench: the benchmark suite is not built: run npm run build first (from the repository root)\n');
  process.exit(2);
}
const { run } = await import(main.href);
process.exit(await run(process.argv.slice(2)));
