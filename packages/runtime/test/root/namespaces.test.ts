import { closeSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StartedContainer } from '@berth/runtime';
import { type BodyFields, type TestEnv, describeRoot, ownMountTable, openTestEnv } from '@berth/testing';

describeRoot('--ipc, --uts and --pid modes on the real kernel', () => {
  let env: TestEnv;
  let before: string;

  beforeAll(async () => {
    before = ownMountTable();
    env = await openTestEnv({ workers: 1 });
  });
  afterAll(async () => {
    await env?.close();
    expect(ownMountTable()).toBe(before);
  });

  /** Start with the namespace donors a supervisor would resolve from `container:<name>`. */
  async function start(cmd: string, hostConfig: BodyFields, donors?: { pid?: number; ipc?: number }) {
    const { id, spec } = env.create(['sh', '-c', cmd], hostConfig);
    const out = join(env.root, `${id}.out`);
    const fd = openSync(out, 'w');
    try {
      const started = await env.runtime.start({
        id, spec, stdio: { stdout: fd, stderr: fd },
        statusPath: join(env.root, `${id}.status`), ...(donors ? { namespaceDonors: donors } : {}),
      });
      return { id, started, output: () => readFileSync(out, 'utf8') };
    } finally {
      closeSync(fd);
    }
  }

  async function finish(c: { id: string; started: StartedContainer }) {
    const status = await c.started.exited;
    await env.runtime.cleanup(c.id, { removeAnonymousVolumes: true });
    return status;
  }

  it('--ipc container:X shares X\'s IPC namespace and its /dev/shm', async () => {
    const donor = await start('echo from-donor > /dev/shm/f; sleep 30', {});
    try {
      const ipc = readlinkSync(`/proc/${donor.started.pid}/ns/ipc`);
      const joiner = await start('readlink /proc/self/ns/ipc; cat /dev/shm/f; echo from-joiner > /dev/shm/g', { IpcMode: 'container:donor' }, { ipc: donor.started.pid });
      expect((await finish(joiner)).exitCode).toBe(0);
      expect(joiner.output()).toBe(`${ipc}\nfrom-donor\n`);
      // The donor sees what the joiner wrote: one tmpfs.
      const check = await start('cat /dev/shm/g', { IpcMode: 'container:donor' }, { ipc: donor.started.pid });
      await finish(check);
      expect(check.output()).toBe('from-joiner\n');
    } finally {
      process.kill(donor.started.pid, 'SIGKILL');
      await finish(donor);
    }
  });

  it('--ipc host uses the host\'s IPC namespace; --ipc none has its own and no /dev/shm', async () => {
    const host = await start('readlink /proc/self/ns/ipc; grep -c " /dev/shm " /proc/mounts', { IpcMode: 'host' });
    await finish(host);
    expect(host.output()).toBe(`${readlinkSync('/proc/self/ns/ipc')}\n1\n`);
    const none = await start('readlink /proc/self/ns/ipc; grep -c " /dev/shm " /proc/mounts', { IpcMode: 'none' });
    await finish(none);
    const [ns, shmMounts] = none.output().split('\n');
    expect(ns).not.toBe(readlinkSync('/proc/self/ns/ipc'));
    expect(shmMounts).toBe('0');
  });

  it('--uts host keeps the host\'s hostname and refuses a hostname of its own, as Docker does', async () => {
    const c = await start('hostname; readlink /proc/self/ns/uts', { UTSMode: 'host' });
    await finish(c);
    expect(c.output()).toBe(`${hostname()}\n${readlinkSync('/proc/self/ns/uts')}\n`);
    // Refused at create, before anything is made.
    expect(() => env.create(['true'], { UTSMode: 'host' }, { Hostname: 'mine' })).toThrow('conflicting options: hostname and the UTS mode');
  });

  it('refuses invalid modes with Docker\'s messages', async () => {
    for (const [hostConfig, message] of [
      [{ PidMode: 'bogus' }, 'invalid PID mode: bogus'],
      [{ PidMode: 'container:' }, 'invalid PID mode: container:'],
      [{ IpcMode: 'bogus' }, 'invalid IPC mode: bogus'],
      [{ UTSMode: 'container:x' }, 'invalid UTS mode: container:x'],
    ] as const) {
      await expect(start('true', hostConfig)).rejects.toThrow(message);
    }
  });

  it('--pid host runs in the host\'s pid namespace (its /proc shows host pid 1); --pid container:X in X\'s', async () => {
    const host = await start('tr "\\0" " " < /proc/1/cmdline; echo; readlink /proc/self/ns/pid', { PidMode: 'host' });
    expect((await finish(host)).exitCode).toBe(0);
    expect(host.output()).toBe(`${readFileSync('/proc/1/cmdline', 'latin1').replace(/\0/g, ' ')}\n${readlinkSync('/proc/self/ns/pid')}\n`);
    const donor = await start('sleep 30', {});
    try {
      const joiner = await start('readlink /proc/self/ns/pid; tr "\\0" " " < /proc/1/cmdline', { PidMode: 'container:donor' }, { pid: donor.started.pid });
      expect((await finish(joiner)).exitCode).toBe(0);
      expect(joiner.output()).toBe(`${readlinkSync(`/proc/${donor.started.pid}/ns/pid`)}\nsleep 30 `);
      // The donor runs on: the joiner's exit ended only its own processes.
      expect(readFileSync(`/proc/${donor.started.pid}/stat`, 'utf8')).not.toMatch(/^\d+ \(.*\) [ZX]/);
    } finally {
      process.kill(donor.started.pid, 'SIGKILL');
      await finish(donor);
    }
  });
});
