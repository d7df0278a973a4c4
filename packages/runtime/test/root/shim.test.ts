import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Runtime, parseCreateBody, processStartTime } from '@berth/runtime';
import { type TestEnv, berthCgroups, describeRoot, hostMountTable, openTestEnv } from '@berth/testing';

const here = dirname(fileURLToPath(import.meta.url));

function pidNamespace(pid: number | string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** What `docker top` lists: every host process in the pid namespace of the container's PID 1. */
function containerProcesses(pid: number): Array<{ pid: number; cmd: string }> {
  const ns = pidNamespace(pid);
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p) && pidNamespace(p) === ns).map((p) => {
    let cmd = '';
    try { cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' '); } catch { /* gone */ }
    return { pid: Number(p), cmd };
  });
}

async function until(condition: () => boolean): Promise<boolean> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
  return condition();
}

describeRoot('the shim and the stub: the command is PID 1, the shim stays outside', () => {
  let env: TestEnv;
  let mountsBefore: string;
  let tools: string;

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    env = await openTestEnv();
    tools = mkdtempSync(join(tmpdir(), 'berth-shim-tools-'));
    chmodSync(tools, 0o755);
    const cc = spawnSync('cc', ['-static', '-O2', '-o', join(tools, 'probe'), join(here, 'helpers', 'probe.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`building the probe failed: ${cc.stderr}`);
  }, 60_000);
  afterAll(async () => {
    await env.close();
    rmSync(tools, { recursive: true, force: true });
    expect(hostMountTable()).toBe(mountsBefore);
  });

  it("runs the command as PID 1 (`sh -c 'echo $$'` prints 1), with nothing of berth in the container", async () => {
    const r = await env.run(['sh', '-c', 'echo $$; cat /proc/1/cmdline | tr "\\0" " "; echo; ls /proc | grep -cE "^[0-9]+$"']);
    expect(r.status.exitCode).toBe(0);
    const [pid, cmdline, count] = r.output.split('\n');
    expect(pid).toBe('1');
    expect(cmdline).toMatch(/^sh -c echo/);
    expect(Number(count)).toBeLessThan(5);
    // The shim ignores SIGPIPE and blocks what it supervises; the command inherits neither.
    const signals = await env.run(['grep', '-E', '^Sig(Ign|Blk)', '/proc/self/status']);
    expect(signals.output).toBe('SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  });

  it("lists only the container's processes in its pid namespace (docker top); the shim is outside, its parent", async () => {
    const { started, id, output } = await env.start(['sh', '-c', 'sleep 300 & echo ready; wait']);
    try {
      expect(await until(() => output().includes('ready'))).toBe(true);
      // The shell's child shows the shell's command line until its exec of sleep (slow on a loaded machine).
      expect(await until(() => containerProcesses(started.pid).some((p) => p.cmd === 'sleep 300'))).toBe(true);
      const listed = containerProcesses(started.pid);
      expect(listed.map((p) => p.cmd).sort()).toEqual(['sh -c sleep 300 & echo ready; wait', 'sleep 300']);
      expect(listed.map((p) => p.pid)).toContain(started.pid);
      expect(listed.map((p) => p.pid)).not.toContain(started.shim.pid);
      expect(pidNamespace(started.shim.pid)).toBe(pidNamespace(process.pid));
      // On the host the shim shows as "berth-shim ID"; its image is the sealed copy, not the host file.
      expect(readFileSync(`/proc/${started.shim.pid}/cmdline`, 'utf8').replace(/\0+$/, '')).toBe(`berth-shim\0${id}`);
      expect(readlinkSync(`/proc/${started.shim.pid}/exe`)).toMatch(/^\/memfd:berth-init/);
      expect(readFileSync(`/proc/${started.pid}/stat`, 'utf8').split(' ')[3]).toBe(String(started.shim.pid));
    } finally {
      process.kill(started.pid, 'SIGKILL');
      await started.exited;
      await env.runtime.cleanup(id, { removeAnonymousVolumes: true });
    }
  });

  it('puts tini at PID 1 with HostConfig.Init (bound read-only at /sbin/docker-init), and tini reaps orphans', async () => {
    const r = await env.run(['sh', '-c', [
      'tr "\\0" " " < /proc/1/cmdline; echo',
      '(sleep 0.1 &)', 'sleep 0.5',
      'echo zombies:$(cat /proc/[0-9]*/stat | grep -c ") Z ")',
      '(echo x > /sbin/docker-init) 2>/dev/null || echo read-only',
    ].join('; ')], { Init: true });
    expect(r.status.exitCode).toBe(0);
    expect(r.output).toBe('/sbin/docker-init -- sh -c tr "\\0" " " < /proc/1/cmdline; echo; (sleep 0.1 &); sleep 0.5; '
      + 'echo zombies:$(cat /proc/[0-9]*/stat | grep -c ") Z "); (echo x > /sbin/docker-init) 2>/dev/null || echo read-only \nzombies:0\nread-only\n');
  });

  it('ends a PID 1 that ignores SIGTERM only with SIGKILL: 137, as docker stop -t 2 of sh -c "sleep 300"', async () => {
    const { started, id } = await env.start(['sh', '-c', 'sleep 300']);
    try {
      process.kill(started.pid, 'SIGTERM');
      // PID 1 has no handler for SIGTERM: the kernel drops it.
      await new Promise((r) => setTimeout(r, 300));
      expect(processStartTime(started.pid)).toBe(started.startTime);
      process.kill(started.pid, 'SIGKILL');
      const status = await started.exited;
      expect([status.exitCode, status.signal]).toEqual([137, 'SIGKILL']);
    } finally {
      await env.runtime.cleanup(id, { removeAnonymousVolumes: true });
    }
  });

  it('reports exit codes: 0, N, 128+signal, 126, 127, 125', async () => {
    expect((await env.run(['true'])).status.exitCode).toBe(0);
    expect((await env.run(['sh', '-c', 'exit 9'])).status.exitCode).toBe(9);
    expect((await env.run(['/etc/passwd'])).status.exitCode).toBe(126);
    expect((await env.run(['no-such-command'])).status.exitCode).toBe(127);
    const setup = await env.run(['true'], {}, { User: 'ghost' });
    expect(setup.status.exitCode).toBe(125);
    expect(setup.status.error).toMatch(/find user ghost: no matching entries in passwd file/);
    const { started, id } = await env.start(['sleep', '30']);
    process.kill(started.pid, 'SIGKILL');
    expect((await started.exited).exitCode).toBe(137);
    await env.runtime.cleanup(id, { removeAnonymousVolumes: true });
  });

  it("gives the container no fd of berth's: PID 1 holds only the command's stdio, never the status file", async () => {
    const { started, id } = await env.start(['sleep', '300']);
    try {
      // Once the stub has exec'd the command (its go pipe and its socket to the shim were the last of berth's).
      expect(await until(() => readFileSync(`/proc/${started.pid}/cmdline`, 'utf8').startsWith('sleep'))).toBe(true);
      const fds = readdirSync(`/proc/${started.pid}/fd`).sort();
      expect(fds).toEqual(['0', '1', '2']);
      expect(fds.map((fd) => readlinkSync(`/proc/${started.pid}/fd/${fd}`)).join(' ')).not.toContain('.status');
      // The shim holds the status file, outside the container.
      const shimFds = readdirSync(`/proc/${started.shim.pid}/fd`).map((fd) => readlinkSync(`/proc/${started.shim.pid}/fd/${fd}`));
      expect(shimFds).toContain(join(env.root, `${id}.status`));
    } finally {
      process.kill(started.pid, 'SIGKILL');
      await started.exited;
      await env.runtime.cleanup(id, { removeAnonymousVolumes: true });
    }
  });

  // The stub is also non-dumpable (PR_SET_DUMPABLE 0), which this does not isolate: until it drops its capabilities the
  // kernel already refuses a prober whose capabilities are not a superset of the stub's.
  it("lets the container's root neither follow the exe nor the fds of a stub waiting inside (exec role)", async () => {
    const { started, id, spec } = await env.start(['sleep', '300']);
    const status = join(tools, 'exec-stub.status');
    const statusFd = openSync(status, 'w');
    // An exec shim whose stub joins the container and then waits for a "go" that never comes.
    const shim = spawn(env.runtime.initPath, ['--exec-in', String(started.pid), '--', 'true'],
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe', statusFd] });
    closeSync(statusFd);
    try {
      expect(await until(() => readFileSync(status, 'utf8').startsWith('shim '))).toBe(true);
      const probe = join(tools, 'dump.out');
      const fd = openSync(probe, 'w');
      const ran = await env.runtime.exec({
        id, pid: started.pid, startTime: started.startTime, config: spec.config,
        exec: { Cmd: ['sh', '-c', [
          'for p in /proc/[0-9]*; do case "$(tr "\\0" " " < $p/cmdline)" in "berth-shim "*) ;; *) continue;; esac',
          'echo stub; readlink $p/exe >/dev/null 2>&1 && echo exe-readable; readlink $p/fd/3 >/dev/null 2>&1 && echo fd-readable; done',
          'readlink /proc/1/exe >/dev/null && echo pid1-exe-readable',
        ].join('; ')] },
        stdio: { stdout: fd, stderr: fd }, statusPath: join(tools, 'dump.status'),
      });
      closeSync(fd);
      expect((await ran.exited).exitCode).toBe(0);
      // The stub is there and the probe can read a dumpable process (PID 1), but not the stub.
      expect(readFileSync(probe, 'utf8')).toBe('stub\npid1-exe-readable\n');
    } finally {
      (shim.stdio[3] as NodeJS.WritableStream).end();
      await new Promise((r) => shim.once('exit', r));
      process.kill(started.pid, 'SIGKILL');
      await started.exited;
      await env.runtime.cleanup(id, { removeAnonymousVolumes: true });
    }
  });

  it('never lets a container outlive its shim: a SIGKILLed shim takes PID 1 (and the rest) with it', async () => {
    const { started, id, output } = await env.start(['sh', '-c', 'sleep 300 & echo ready; wait'], {}, { User: 'nobody' });
    try {
      expect(await until(() => output().includes('ready'))).toBe(true);
      process.kill(started.shim.pid, 'SIGKILL');
      const status = await started.exited;
      expect(status.exitCode).toBe(137);
      expect(await until(() => processStartTime(started.pid) !== started.startTime)).toBe(true);
    } finally {
      await env.runtime.cleanup(id, { removeAnonymousVolumes: true });
    }
  });

  it('neither wedges nor hangs when the container ptrace-stops its own PID 1: a kill still ends it and the exit is reported', async () => {
    const { started, id, output } = await env.start(['sh', '-c', '/probe ptrace-stop 1; echo never-here'], { Binds: [`${join(tools, 'probe')}:/probe:ro`] });
    try {
      expect(await until(() => output().includes('stopped'))).toBe(true);
      // PID 1 is held in a ptrace stop (t): the container's own business, and no part of berth is stopped with it.
      expect(readFileSync(`/proc/${started.pid}/stat`, 'utf8')).toMatch(/^\d+ \(.*\) t /);
      expect(readFileSync(`/proc/${started.shim.pid}/stat`, 'utf8')).toMatch(/^\d+ \(.*\) S /);
      process.kill(started.pid, 'SIGKILL');
      const status = await started.exited;
      expect(status.exitCode).toBe(137);
      expect(output()).not.toContain('never-here');
    } finally {
      await env.runtime.cleanup(id, { removeAnonymousVolumes: true });
    }
  });

  it('keeps a container running when its supervisor is SIGKILLed; a new runtime finds it by its shim and reads its exit', async () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-adopt-'));
    const child = spawn(process.execPath, [join(here, 'helpers', 'supervisor-child.mjs'), root], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let line = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => { line += d; });
      expect(await until(() => line.includes('\n'))).toBe(true);
      const info = JSON.parse(line) as { pid: number; startTime: number; shim: { pid: number }; status: string; out: string };
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect(processStartTime(info.pid)).toBe(info.startTime);

      const adopted = env.runtime.adopt(info.status);
      expect(adopted).toMatchObject({ pid: info.pid, startTime: info.startTime, shim: { pid: info.shim.pid } });
      const id = readFileSync(`/proc/${info.shim.pid}/cmdline`, 'latin1').split('\0')[1]!;
      expect(berthCgroups().filter((c) => c.includes(id))).not.toEqual([]);
      writeFileSync(join(root, 'go-on'), '');
      const status = await adopted!.exited;
      expect(status.exitCode).toBe(42);
      // Its cgroup went with it, as a launch's does, though no launch of this runtime watched it.
      expect(berthCgroups().filter((c) => c.includes(id))).toEqual([]);
      expect(readFileSync(info.out, 'utf8')).toBe('before\nafter\n');
      expect(env.runtime.adopt(join(root, 'no-such-status'))).toBeUndefined();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses HostConfig.Init with a clear error when docker-init is missing, and runs without it', async () => {
    const runtime = await Runtime.open({
      root: env.root, layers: env.layers, volumes: env.volumes, syscalls: env.syscalls, mountNamespace: env.mountNamespace,
      workers: 1, initBinary: join(tools, 'no-such-init'),
    });
    try {
      const start = async (hostConfig: Record<string, unknown>) => {
        const id = randomBytes(32).toString('hex');
        const spec = runtime.create(parseCreateBody({ Image: 'busybox', Cmd: ['true'], HostConfig: hostConfig }), { id });
        return runtime.start({ id, spec, stdio: { stdout: 1, stderr: 2 }, statusPath: join(tools, 'init.status') });
      };
      await expect(start({ Init: true })).rejects.toThrow(/--init needs docker-init at .*no-such-init: install it/);
      const started = await start({});
      expect((await started.exited).exitCode).toBe(0);
      await runtime.cleanup(started.id, { removeAnonymousVolumes: true });
    } finally {
      await runtime.close();
    }
  });
});
