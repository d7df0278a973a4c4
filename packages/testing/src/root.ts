import { readFileSync } from 'node:fs';
import { describe } from 'vitest';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A describe block that runs only as root, and says so when it skips. */
export function describeRoot(name: string, fn: () => void): void {
  if (!isRoot) {
    console.warn(`[root tests] skipping "${name}": not running as root (CI runs these as root)`);
  }
  describe.skipIf(!isRoot)(name, fn);
}

/**
 * The host's mount table without the fields that change by themselves, so
 * "before" and "after" can be compared byte for byte.
 */
export function hostMountTable(): string {
  return readFileSync('/proc/self/mountinfo', 'utf8');
}
