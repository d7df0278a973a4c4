import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeRoot, hostMountTable } from '@berth/testing';

describeRoot('bind propagation from the host', () => {
  it('an rslave bind of a shared mount sees what the host mounts under it after the container started', () => {
    const before = hostMountTable();
    const child = fileURLToPath(new URL('./helpers/propagation-child.mjs', import.meta.url));
    // The child's own mount namespace plays the host, so the real host never sees a mount.
    const json = execFileSync('unshare', ['-m', '--propagation', 'unchanged', process.execPath, child], { encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(json)).toEqual({ status: 0, output: 'propagated\ntmpfs\n' });
    expect(hostMountTable()).toBe(before);
  });
});
