import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ContainerSpec, ExecRequest, StartedContainer } from '@berth/runtime';
import { type TestEnv, describeRoot, hostMountTable, openTestEnv } from '@berth/testing';

describeRoot('exec: one more process in a running container', () => {
  let env: TestEnv;
  let mountsBefore: string;
  let container: { started: StartedContainer; id: string; spec: ContainerSpec };

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    env = await openTestEnv();
    container = await env.start(['sh', '-c', 'echo from-container > /data/f; exec sleep 1000'], { Binds: ['execvol:/data'] },
      { Env: ['FROM_CONTAINER=1'], WorkingDir: '/data', Hostname: 'boxname' });
  });
  afterAll(async () => {
    process.kill(container.started.pid, 'SIGKILL');
    await container.started.exited;
    await env.runtime.cleanup(container.id, { removeAnonymousVolumes: true });
    await env.close();
    expect(hostMountTable()).toBe(mountsBefore);
  });

  async function exec(cmd: string[], opts: Partial<ExecRequest['exec']> = {}): Promise<{ code: number; output: string; error?: string }> {
    const out = join(env.root, `exec-${Math.random().toString(16).slice(2)}.out`);
    const fd = openSync(out, 'w');
    let started;
    try {
      started = await env.runtime.exec({
        id: container.id, pid: container.started.pid, startTime: container.started.startTime,
        config: { ...container.spec.config, Env: ['FROM_CONTAINER=1'], WorkingDir: '/data', Hostname: 'boxname' },
        exec: { Cmd: cmd, ...opts }, stdio: { stdout: fd, stderr: fd }, statusPath: `${out}.status`,
      });
    } finally {
      closeSync(fd);
    }
    const status = await started.exited;
    return { code: status.exitCode, output: readFileSync(out, 'utf8'), ...(status.error ? { error: status.error } : {}) };
  }

  it("runs in the container's namespaces, root, volumes, environment and working directory", async () => {
    for (let i = 0; i < 50 && !readFileSync(join(env.root, 'volumes', 'execvol', '_data', 'f'), { flag: 'a+' }).length; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const r = await exec(['sh', '-c', 'cat /data/f; hostname; pwd; echo "$FROM_CONTAINER $EXTRA"; [ $$ -lt 100 ] && echo small-pid; tr "\\0" " " < /proc/1/cmdline; echo; grep PPid /proc/$$/status; exit 7'],
      { Env: ['EXTRA=2'] });
    expect(r.code).toBe(7);
    // The container's volume and files, its hostname, its cwd, its env plus the exec's, its pid namespace (its command is
    // PID 1); and the exec is no child of PID 1: its parent is the shim, outside the pid namespace (ppid 0 seen from in).
    expect(r.output).toBe('from-container\nboxname\n/data\n1 2\nsmall-pid\nsleep 1000 \nPPid:\t0\n');
  });

  it('runs as another user, from another directory, and reports a missing command as Docker does', async () => {
    expect((await exec(['sh', '-c', 'id -u; pwd'], { User: 'nobody', WorkingDir: '/tmp' })).output).toBe('65534\n/tmp\n');
    const missing = await exec(['no-such-command']);
    expect(missing.code).toBe(127);
    expect(missing.output).toContain('executable file not found in $PATH');
  });

  it('gives the command a terminal with -t, and leaves the container running after', async () => {
    const r = await exec(['sh', '-c', 'tty; [ -t 1 ] && echo is-a-tty'], { Tty: true });
    expect(r.output).toMatch(/^\/dev\/pts\/\d+\r\nis-a-tty\r\n$/);
    expect(readFileSync(`/proc/${container.started.pid}/stat`, 'utf8')).not.toMatch(/^\d+ \(.*\) [ZX]/);
  });

  it('refuses a container that is not running', async () => {
    await expect(env.runtime.exec({
      id: container.id, pid: container.started.pid, startTime: container.started.startTime + 1,
      config: container.spec.config, exec: { Cmd: ['true'] }, stdio: { stdout: 1, stderr: 2 }, statusPath: join(env.root, 'x.status'),
    })).rejects.toThrow(/is not running/);
  });
});
