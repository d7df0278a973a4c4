#!/usr/bin/env node
// Committed launcher: npm links workspace bins at install time, before any
// build, so this file must exist in the clone; it only forwards to dist.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('berth: berth is not built yet: run npm run build (from the repository root)\n');
  process.exit(125);
}
const { run } = await import(main.href);
process.exit(await run(process.argv.slice(2)));
