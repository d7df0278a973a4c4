// v1: a container's cgroup is under the supervisor's own cgroup (design.md).
// A supervisor of the same root started from another cgroup (another service,
// shell or job) must still find, and clean up, what the last one placed: the
// root records the parents, and the next runtime uses them while they exist.
// Real cgroups; the only one made outside berth/ is the test's own stand-in
// for "the last supervisor's cgroup", under this process's memory cgroup,
// removed at the end.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Cgroups } from '../../src/cgroups/index.js';
import { describeRoot, isRoot, openTestEnv } from '@berth/testing';

const detected = isRoot ? Cgroups.detect() : undefined;
const memoryKey = detected && detected.version === 1
  ? Object.keys(detected.v1Parents).find((k) => k.split(',').includes('memory'))
  : undefined;

describeRoot('v1 cgroup parents recorded in the runtime root', () => {
  let root = '';
  let stand: string | undefined;
  let standPath = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'berth-cgparents-'));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    // The runtime's berth/ in the stand-in, then the stand-in (both empty by now).
    if (stand && existsSync(join(stand, 'berth'))) rmdirSync(join(stand, 'berth'));
    if (stand && existsSync(stand)) rmdirSync(stand);
  });

  it.skipIf(memoryKey === undefined)('(v1 with a memory hierarchy; skipped elsewhere) places containers under the recorded parent while it exists, else its own, and records what it used', async () => {
    const own = detected!.v1Parents;
    const ownMemoryDir = dirname(detected!.berthDirs[Object.keys(own).indexOf(memoryKey!)]!);
    // "The last supervisor ran here": a cgroup beside nothing, under this process's own.
    standPath = `${own[memoryKey!] === '/' ? '' : own[memoryKey!]}/berth-test-parent-${process.pid}`;
    stand = join(ownMemoryDir, `berth-test-parent-${process.pid}`);
    mkdirSync(stand);
    const record = join(root, 'cgroup-parents.json');
    writeFileSync(record, JSON.stringify({ ...own, [memoryKey!]: standPath }));

    const env = await openTestEnv({ root, workers: 1, sandboxes: 0 });
    try {
      const { started, id } = await env.start(['sleep', '30']);
      try {
        const memoryLine = readFileSync(`/proc/${started.pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1]!.split(',').includes('memory'));
        expect(memoryLine?.split(':')[2]).toBe(`${standPath}/berth/${id}`);
      } finally {
        process.kill(started.pid, 'SIGKILL');
        await started.exited;
        await env.runtime.cleanup(id, { removeAnonymousVolumes: true });
      }
      expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual({ ...own, [memoryKey!]: standPath });
    } finally {
      await env.close();
    }

    // Gone since: this process's own again, and recorded. (The runtime removes the berth/ it made when it closes.)
    expect(existsSync(join(stand, 'berth'))).toBe(false);
    rmdirSync(stand);
    mkdirSync(root);
    writeFileSync(record, JSON.stringify({ ...own, [memoryKey!]: standPath }));
    const again = await openTestEnv({ root, workers: 1, sandboxes: 0 });
    try {
      expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual(own);
    } finally {
      await again.close();
    }
  });
});
