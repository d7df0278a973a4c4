import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Mount } from '../../src/types.js';

export interface Seen {
  entries: Record<string, { type: string; mode: number; uid: number; gid: number; ino: number; nlink: number; rdev: number; target?: string; content?: string; note?: string } | null>;
  listings: Record<string, string[]>;
  tree: string[];
}

/** Mounts `mount` in a child's private mount namespace and reports what it sees. */
export function lookInside(mount: Mount, paths: string[], dirs: string[] = [], tree = false): Seen {
  const r = spawnSync(process.execPath, [join(import.meta.dirname, 'mount-check.mjs'), JSON.stringify({ mount, paths, dirs, tree })], {
    cwd: import.meta.dirname, encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`mount-check failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Seen;
}

