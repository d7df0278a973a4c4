import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeRoot, ownMountTable } from '@berth/testing';


// A mount namespace of a child process plays the host (the real host's propagation is never changed).
function playHost(propagation: 'private' | 'shared'): unknown {
  const child = fileURLToPath(new URL('./helpers/host-mounts-child.mjs', import.meta.url));
  return JSON.parse(execFileSync('unshare', ['-m', '--propagation', 'unchanged', process.execPath, child, propagation], { encoding: 'utf8', timeout: 60_000 }));
}

describeRoot('binds show the host as it is now', () => {
  for (const propagation of ['private', 'shared'] as const) {
    it(`sees a host mount made after the runtime opened through a bind of its parent, with the host's / ${propagation}`, () => {
      const before = ownMountTable();
      expect(playHost(propagation)).toEqual({
        bind: { exitCode: 0, output: 'made-later\ntmpfs\n' },
        readOnly: { exitCode: 0, output: 'Read-only file system\nRead-only file system\n' },
        propagation: { exitCode: 1, output: '0\n' },
        ...(propagation === 'shared' ? { rslave: { exitCode: 0, output: 'master:\n' } } : {}),
        volume: { exitCode: 0, output: 'v\ntmpfs\n' },
      });
      expect(ownMountTable()).toBe(before);
    });
  }
});
