/**
 * Docker's security defaults and process model through the docker CLI
 * against a real supervisor (issue 13): the seccomp profile in run and exec
 * (a static probe inside the container), capabilities, privileged, devices,
 * the pid namespace modes, groups, refusals; the command as PID 1.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Daemon, describeRoot, hostMountTable } from '@berth/testing';
import { busyboxImageArchive } from '../helpers/busybox-image.js';

const run = promisify(execFile);
const IMAGE = 'berth-test/busybox';
const PROBE_SOURCE = fileURLToPath(new URL('../../../runtime/test/fixtures/seccomp-probe.c', import.meta.url));
/** The calls a default container must not make (issue 13), each answered EPERM by Docker's profile. */
const DENIED = ['keyctl', 'add_key', 'unshare_newuser', 'bpf', 'perf_event_open', 'open_by_handle_at', 'clock_settime', 'io_uring_setup'];

describeRoot('Docker\'s security defaults through the docker CLI (seccomp, capabilities, devices, pid modes)', () => {
  let root: string;
  let tools: string;
  let daemon: Daemon;
  let mountsBefore: string;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${daemon.opts.socketPath}`, DOCKER_CONFIG: join(root, 'docker-config') });
  const docker = (...args: string[]): Promise<{ stdout: string; stderr: string }> => run('docker', args, { env: env() });
  const failure = (p: Promise<unknown>): Promise<{ stderr: string; code: number }> =>
    p.then(() => { throw new Error('expected the command to fail'); }, (e: { stderr: string; code: number }) => e);
  /** The probe's report: `{ call: ERRNO | ok }`. */
  const report = (text: string): Record<string, string> =>
    Object.fromEntries(text.trim().split('\n').map((l) => l.split(' ') as [string, string]));

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    root = mkdtempSync(join(tmpdir(), 'berth-security-'));
    tools = join(root, 'tools');
    mkdirSync(tools);
    chmodSync(tools, 0o755);
    const cc = spawnSync('cc', ['-static', '-O2', '-pthread', '-o', join(tools, 'seccomp-probe'), PROBE_SOURCE], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`failed to build the seccomp probe: ${cc.stderr}`);
    daemon = new Daemon({ root: join(root, 'state'), socketPath: join(root, 'berth.sock'), logPath: join(root, 'daemon.log') });
    await daemon.start();
    writeFileSync(join(root, 'busybox.tar'), await busyboxImageArchive());
    await docker('image', 'load', '-i', join(root, 'busybox.tar'));
  });

  afterAll(async () => {
    if (daemon) {
      for (const c of await daemon.docker.listContainers({ all: true })) await daemon.docker.getContainer(c.Id).remove({ force: true, v: true });
      await daemon.stop();
    }
    rmSync(root, { recursive: true, force: true });
    expect(hostMountTable()).toBe(mountsBefore);
  });

  it('loads Docker\'s seccomp profile in run and in exec; seccomp=unconfined turns it off; threads still start', async () => {
    const probe = ['-v', `${tools}:/tools:ro`];
    const inRun = report((await docker('run', '--rm', ...probe, IMAGE, '/tools/seccomp-probe')).stdout);
    expect(inRun['seccomp']).toBe('2');
    for (const call of DENIED) expect(inRun[call], call).toBe('EPERM');
    expect(inRun['clone3']).toBe('ENOSYS');
    expect(inRun['thread']).toBe('ok');

    await docker('run', '-d', '--name', 'sc', ...probe, IMAGE, 'sleep', '300');
    const inExec = report((await docker('exec', 'sc', '/tools/seccomp-probe')).stdout);
    expect(inExec['seccomp']).toBe('2');
    for (const call of DENIED) expect(inExec[call], call).toBe('EPERM');
    await docker('rm', '-f', 'sc');

    const off = report((await docker('run', '--rm', '--security-opt', 'seccomp=unconfined', ...probe, IMAGE, '/tools/seccomp-probe')).stdout);
    expect(off['seccomp']).toBe('0');
    for (const call of DENIED) expect(off[call], call).not.toBe('EPERM');
  });

  it('gives --cap-drop ALL, --cap-add SYS_ADMIN and --privileged Docker\'s capability sets, and no_new_privs only on request', async () => {
    const caps = async (...flags: string[]): Promise<string> =>
      (await docker('run', '--rm', ...flags, IMAGE, 'sh', '-c', 'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status | tr "\\n\\t" "  "')).stdout;
    expect(await caps()).toBe('CapEff: 00000000a80425fb NoNewPrivs: 0 ');
    expect(await caps('--cap-drop', 'ALL')).toBe('CapEff: 0000000000000000 NoNewPrivs: 0 ');
    expect(await caps('--cap-add', 'SYS_ADMIN')).toBe(`CapEff: ${(0xa80425fb + 2 ** 21).toString(16).padStart(16, '0')} NoNewPrivs: 0 `);
    expect(await caps('--security-opt', 'no-new-privileges')).toBe('CapEff: 00000000a80425fb NoNewPrivs: 1 ');
    // Privileged: every capability the daemon itself holds, no seccomp, nothing masked, the host's devices.
    const privileged = (await docker('run', '--rm', '--privileged', IMAGE, 'sh', '-c',
      'grep -E "^(Seccomp):" /proc/self/status; ls /dev/kmsg; grep -c " /proc/kcore " /proc/mounts || true')).stdout;
    expect(privileged).toBe('Seccomp:\t0\n/dev/kmsg\n0\n');
  });

  it('makes mknod succeed and open fail (device cgroup), and --device opens', async () => {
    const probe = await docker('run', '--rm', IMAGE, 'sh', '-c', 'mknod /tmp/mem c 1 1 && echo made; cat /tmp/mem 2>&1 | grep -o "Operation not permitted"');
    expect(probe.stdout).toBe('made\nOperation not permitted\n');
    expect((await docker('run', '--rm', '--device', '/dev/null:/dev/mynull', IMAGE, 'sh', '-c', 'echo x > /dev/mynull && echo wrote')).stdout).toBe('wrote\n');
  });

  it('runs the command as PID 1 (docker top lists only it); --pid host sees the host; --group-add adds groups', async () => {
    expect((await docker('run', '--rm', IMAGE, 'sh', '-c', 'echo $$')).stdout).toBe('1\n');
    await docker('run', '-d', '--name', 'one', IMAGE, 'sleep', '300');
    const top = (await docker('top', 'one')).stdout.trim().split('\n');
    expect(top).toHaveLength(2);
    expect(top[1]).toMatch(/sleep 300$/);
    await docker('rm', '-f', 'one');
    // A shell as PID 1 ignores SIGTERM: stop ends it with SIGKILL after the timeout, 137, as under Docker.
    await docker('run', '-d', '--name', 'stopme', IMAGE, 'sh', '-c', 'sleep 300');
    await docker('stop', '-t', '2', 'stopme');
    expect(JSON.parse((await docker('inspect', 'stopme')).stdout)[0].State.ExitCode).toBe(137);
    await docker('rm', 'stopme');
    // --init: tini is PID 1 and the command its child.
    const [pid1, shell] = (await docker('run', '--rm', '--init', IMAGE, 'sh', '-c', 'cat /proc/1/comm; echo $$')).stdout.split('\n');
    expect(pid1).toBe('docker-init');
    expect(Number(shell)).toBeGreaterThan(1);
    expect((await docker('run', '--rm', '--pid', 'host', IMAGE, 'sh', '-c', 'test -d /proc/1 && ls /proc | grep -c "^[0-9]"')).stdout.trim()).not.toBe('1');
    expect((await docker('run', '--rm', '--group-add', '123', '--group-add', '456', IMAGE, 'id', '-G')).stdout).toBe('0 123 456\n');
  });

  it('refuses what Docker refuses (a bogus --security-opt, a bad capability) and what berth does not implement, with 400', async () => {
    expect((await failure(docker('run', '--rm', '--security-opt', 'bogus=1', IMAGE, 'true'))).stderr).toContain('invalid --security-opt 2: "bogus=1"');
    expect((await failure(docker('run', '--rm', '--cap-add', 'NOPE', IMAGE, 'true'))).stderr).toContain('unknown capability: "CAP_NOPE"');
    expect((await failure(docker('run', '--rm', '--blkio-weight', '300', IMAGE, 'true'))).stderr).toContain('berth does not implement HostConfig.BlkioWeight');
    expect((await daemon.docker.listContainers({ all: true })).length).toBe(0);
  });
});
