/**
 * A network namespace holder (`berth-netns ID`) that no record names — a
 * supervisor killed between spawning it and recording it leaves one — is
 * ended when the next supervisor starts, if its container is one of that
 * supervisor's and does not run; a holder of a container it does not know
 * (another supervisor's) is left alone.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { expect, it } from 'vitest';
import { processStartTime } from '@berth/syscall';
import { describeRoot } from '@berth/testing';
import { Supervisor } from '../../src/index.js';
import { busyboxImageArchive } from '../helpers/busybox-image.js';

/** A process named as the runtime names a holder (`sleep infinity`, argv0 `berth-netns ID`), not ours to wait for. */
function fakeHolder(id: string): { pid: number; startTime: number } {
  const child = spawn('/bin/sleep', ['infinity'], { argv0: `berth-netns ${id}`, stdio: 'ignore', detached: true });
  child.unref();
  const startTime = processStartTime(child.pid!);
  if (startTime === undefined) throw new Error('the fake holder did not start');
  return { pid: child.pid!, startTime };
}

describeRoot('network namespace holders after a kill', () => {
  it('a start ends an unrecorded holder of its own container that does not run, and leaves another supervisor\'s', async () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-holders-'));
    const socketPath = join(root, 'berth.sock');
    const holders: { pid: number; startTime: number }[] = [];
    let sup = await Supervisor.start({ root: join(root, 'state'), socketPath, workers: 1 });
    try {
      const docker = new Docker({ socketPath });
      const loaded = await docker.loadImage(Buffer.from(await busyboxImageArchive()) as unknown as NodeJS.ReadableStream);
      await new Promise((r) => (loaded as NodeJS.ReadableStream).on('end', r).resume());
      const ours = (await docker.createContainer({ Image: 'berth-test/busybox', Cmd: ['true'] })).id;
      await sup.close();
      const orphan = fakeHolder(ours);
      const foreign = fakeHolder(randomBytes(32).toString('hex'));
      holders.push(orphan, foreign);
      sup = await Supervisor.start({ root: join(root, 'state'), socketPath, workers: 1 });
      // SIGKILL is delivered at once; the reap (by init) may take a moment.
      for (let i = 0; i < 100 && processStartTime(orphan.pid) === orphan.startTime; i++) await sleep(20);
      expect(processStartTime(orphan.pid), 'the holder of our container that does not run').toBeUndefined();
      expect(processStartTime(foreign.pid), 'the holder of a container we do not know').toBe(foreign.startTime);
      await docker.getContainer(ours).remove();
    } finally {
      for (const h of holders) if (processStartTime(h.pid) === h.startTime) process.kill(h.pid, 'SIGKILL');
      await sup.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
