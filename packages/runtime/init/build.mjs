#!/usr/bin/env node
// Builds the container init (berth-init.c) with the system C compiler into
// packages/runtime/dist/berth-init. Skips the build when the binary is newer
// than the source, so it is cheap to run on every package build.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'berth-init.c');
const output = join(here, '..', 'dist', 'berth-init');

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

if (mtime(output) > mtime(source) && !process.argv.includes('--force')) {
  process.exit(0);
}

const cc = process.env.CC ?? 'cc';
mkdirSync(dirname(output), { recursive: true });
// Static: exec of the init is on every launch's path, and a static binary
// skips the dynamic loader and libc's relocation (measured: about a third of
// the exec time here). It parses /etc/passwd itself, so no NSS is needed.
const args = ['-O2', '-static', '-Wall', '-Wextra', '-Werror', '-o', output, source];
const result = spawnSync(cc, args, { stdio: 'inherit' });
if (result.error && result.error.code === 'ENOENT') {
  console.error(
    `failed to build the container init: no C compiler (${cc}) found; install gcc (apt-get install gcc)`,
  );
  process.exit(1);
}
if (result.status !== 0) {
  console.error(`failed to build the container init: ${cc} ${args.join(' ')} exited ${result.status ?? result.signal}`);
  process.exit(1);
}
