import { afterAll, beforeAll, expect, it } from 'vitest';
import { join } from 'node:path';
import { type TestEnv, describeRoot, hostMountTable, openTestEnv } from '@berth/testing';

describeRoot('faults injected into a launch', () => {
  let env: TestEnv;
  let before: string;

  beforeAll(async () => {
    before = hostMountTable();
    env = await openTestEnv({ workers: 1 });
  });
  afterAll(async () => {
    await env?.close();
    expect(hostMountTable()).toBe(before);
  });

  const request = (cmd: string[]) => {
    const { id, spec } = env.create(cmd, { Binds: ['faultvol:/v'], Tmpfs: { '/t': '' } });
    return { id, spec, stdio: { stdout: 2, stderr: 2 }, statusPath: join(env.root, `${id}.status`) };
  };

  it('a syscall failing at any step leaves no mount on the host, and the same worker serves the next launch', async () => {
    // One worker: every launch below runs on the thread that just failed.
    for (const failAt of [1, 2, 3, 5, 8, 13, 21, 34]) {
      const req = request(['true']);
      await expect(env.runtime.start(req, { fault: { failAt, errno: 'EIO' } })).rejects.toThrow(/injected fault|EIO/);
      env.runtime.cleanup(req.id, { removeAnonymousVolumes: true });
      expect(hostMountTable()).toBe(before);
      const next = await env.run(['sh', '-c', 'echo ok > /v/after-fault; cat /v/after-fault'], { Binds: ['faultvol:/v'] });
      expect(next.status.exitCode).toBe(0);
      expect(next.output).toBe('ok\n');
    }
    // The references the failed containers took at create went with their cleanup.
    expect(env.volumes.usedBy('faultvol')).toEqual([]);
  });

  it('retires a worker that cannot return to the host namespaces, without losing the container it started before', async () => {
    const long = await env.start(['sh', '-c', 'sleep 1; exit 7']);
    // setns #1 enters berth's namespace, #2 the prepared network namespace
    // (when the worker has one ready); #3 is always one of the restores.
    const req = request(['true']);
    await expect(env.runtime.start(req, { fault: { failAt: 3, errno: 'EPERM', only: 'setns' } })).rejects.toThrow(/retired/);
    env.runtime.cleanup(req.id, { removeAnonymousVolumes: true });
    // The container started by the retired worker is still watched, and its real status read.
    const status = await long.started.exited;
    expect(status.exitCode).toBe(7);
    // A fresh worker serves the next launch.
    const next = await env.run(['true']);
    expect(next.status.exitCode).toBe(0);
    expect(hostMountTable()).toBe(before);
  });
});
