import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRoot, hostMountTable, isRoot } from '@berth/testing';

// These tests run the real shim and stub, outside berth's launcher: the
// system `unshare` makes the mount, uts and ipc namespaces (not the pid one:
// the shim makes that for its child), a shell bind-mounts the test rootfs
// onto itself (pivot_root needs a mount point) and mounts a read-only /sys,
// then execs berth-init with fd 3 (go) and fd 4 (status) as the launcher
// passes them. The command becomes PID 1.

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..', '..');
const init = join(pkg, 'dist', 'berth-init');
const APPLETS = ['sh', 'cat', 'grep', 'ls', 'mount', 'id', 'sleep', 'echo', 'touch', 'tr', 'wc', 'kill', 'hostname', 'mkdir'];
const MASKS = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'];
const READONLY = ['/proc/sys', '/proc/sysrq-trigger'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The final status line (after the shim's `shim ...` line). */
  status: string;
  /** The shim's first line: `shim SHIM_PID SHIM_START PID PID_START`. */
  state: string;
}

interface RunOptions {
  args?: string[];
  cmd: string[];
  /** false: close the go pipe without a byte. A number: send go after that many ms. */
  go?: boolean | number;
  /** `shimPid` is the shim's host pid (the container's PID 1 is its child). */
  onStart?: (shimPid: number, stdout: () => string) => void;
  rootfs?: string;
}

let dir = '';
let rootfs = '';
let mountsBefore = '';
let probe = '';

function makeRootfs(path: string): string {
  for (const d of ['bin', 'dev', 'sys', 'etc', 'tmp', 'mnt']) mkdirSync(join(path, d), { recursive: true });
  copyFileSync('/bin/busybox', join(path, 'bin', 'busybox'));
  chmodSync(join(path, 'bin', 'busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(path, 'bin', a));
  if (spawnSync('mknod', [join(path, 'dev', 'null'), 'c', '1', '3']).status !== 0) throw new Error('mknod failed');
  writeFileSync(join(path, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  writeFileSync(join(path, 'etc', 'group'), 'root:x:0:\nstaff:x:50:nobody,other\nnogroup:x:65534:\n');
  writeFileSync(join(path, 'bin', 'not-executable'), '#!/bin/sh\necho hi\n', { mode: 0o644 });
  if (probe) {
    copyFileSync(probe, join(path, 'bin', 'probe'));
    chmodSync(join(path, 'bin', 'probe'), 0o4755); // root's, setuid
  }
  return path;
}

async function waitForBusybox(): Promise<boolean> {
  // busybox-static may still be installing on a fresh machine.
  for (let i = 0; i < 120 && !existsSync('/bin/busybox'); i++) await new Promise((r) => setTimeout(r, 1000));
  return existsSync('/bin/busybox');
}

function runInit(o: RunOptions): Promise<Run> {
  const root = o.rootfs ?? rootfs;
  const statusPath = join(dir, `status-${Math.random().toString(16).slice(2)}`);
  const statusFd = openSync(statusPath, 'w');
  const script = `mount --bind "$R" "$R" && mount -t sysfs -o ro sysfs "$R/sys" && cd "$R" && exec "$INIT" "$@"`;
  const child = spawn(
    'unshare',
    ['-m', '-u', '-i', '--propagation', 'private', '/bin/sh', '-c', script, 'sh',
      '--rootfs', root, ...(o.args ?? []), '--', ...o.cmd],
    {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', R: root, INIT: init },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', statusFd],
    },
  );
  closeSync(statusFd);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const goPipe = child.stdio[3] as NodeJS.WritableStream;
  // Node's 'pipe' is a socket: a shim that fails before its stub reads "go" resets it.
  goPipe.on('error', () => undefined);
  if (o.go === false) goPipe.end();
  else setTimeout(() => goPipe.end('g'), typeof o.go === 'number' ? o.go : 0);
  // unshare execs sh, which execs berth-init: the child is the shim.
  o.onStart?.(child.pid ?? 0, () => stdout);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const text = readFileSync(statusPath, 'utf8');
      const state = text.startsWith('shim ') ? text.slice(0, text.indexOf('\n') + 1) : '';
      resolve({ code, stdout, stderr, state, status: text.slice(state.length) });
    });
  });
}

const sh = (script: string): string[] => ['sh', '-c', script];

describeRoot('berth-init (the container init)', () => {
  beforeAll(async () => {
    if (!(await waitForBusybox())) throw new Error('these tests need /bin/busybox: apt-get install -y busybox-static');
    const build = spawnSync(process.execPath, [join(pkg, 'init', 'build.mjs')], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`building berth-init failed: ${build.stderr}`);
    mountsBefore = hostMountTable();
    dir = mkdtempSync(join(tmpdir(), 'berth-init-'));
    probe = join(dir, 'probe');
    const cc = spawnSync('cc', ['-static', '-O2', '-o', probe, join(here, 'helpers', 'probe.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`building the probe failed: ${cc.stderr}`);
    rootfs = makeRootfs(join(dir, 'rootfs'));
  }, 180_000);

  afterAll(() => {
    if (isRoot && dir) {
      expect(hostMountTable()).toBe(mountsBefore);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('waits for go, and exits 1 without running the command when the pipe closes empty', async () => {
    const marker = join(rootfs, 'tmp', 'ran');
    const noGo = await runInit({ go: false, cmd: ['touch', '/tmp/ran'] });
    expect(noGo.code).toBe(1);
    expect(existsSync(marker)).toBe(false);
    expect(noGo.status).toBe('');
    expect(noGo.state).toMatch(/^shim \d+ \d+ \d+ \d+\n$/);

    let seenBeforeGo = true;
    const late = await runInit({
      go: 500,
      cmd: ['touch', '/tmp/ran'],
      onStart: () => setTimeout(() => (seenBeforeGo = existsSync(marker)), 300),
    });
    expect(seenBeforeGo).toBe(false);
    expect(late.code).toBe(0);
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);
  });

  it('shows only the container processes in /proc, with the command as PID 1 and the shim outside', async () => {
    const r = await runInit({ cmd: sh('ls /proc | grep -E "^[0-9]+$" | tr "\\n" " "; echo; tr "\\0" " " < /proc/1/cmdline; echo; echo $$') });
    const [pids, cmdline, self] = r.stdout.split('\n');
    const list = (pids ?? '').trim().split(' ').map(Number);
    expect(list[0]).toBe(1);
    expect(list.length).toBeLessThan(6); // sh, ls, grep, tr; the host has far more
    expect(cmdline?.trim()).toMatch(/^sh -c ls \/proc/);
    expect(self).toBe('1');
    // The shim recorded itself (a host pid, outside) and PID 1 by its host pid.
    const [, shimPid, , pid] = r.state.split(' ').map(Number);
    expect(shimPid).not.toBe(pid);
    expect(pid).toBeGreaterThan(1);
  });

  it("keeps Docker's default capabilities, clears the ambient and inheritable sets; no_new_privs only with --no-new-privs", async () => {
    const off = await runInit({ cmd: ['grep', 'NoNewPrivs', '/proc/self/status'] });
    expect(off.stdout).toBe('NoNewPrivs:\t0\n');
    const r = await runInit({ args: ['--no-new-privs'], cmd: ['grep', '-E', 'Cap|NoNewPrivs', '/proc/self/status'] });
    expect(r.stdout).toContain('CapBnd:\t00000000a80425fb');
    expect(r.stdout).toContain('CapEff:\t00000000a80425fb');
    expect(r.stdout).toContain('CapPrm:\t00000000a80425fb');
    expect(r.stdout).toContain('CapInh:\t0000000000000000');
    expect(r.stdout).toContain('CapAmb:\t0000000000000000');
    expect(r.stdout).toContain('NoNewPrivs:\t1');
  });

  it('masks paths, makes /proc/sys read-only, and cannot mount anything', async () => {
    const args = [...MASKS.flatMap((m) => ['--mask', m]), ...READONLY.flatMap((p) => ['--ro', p])];
    const r = await runInit({
      args,
      cmd: sh(
        'echo timer:$(wc -c < /proc/timer_list); echo firmware:$(ls /sys/firmware | wc -l);' +
          ' echo x > /proc/sys/kernel/domainname || echo sys-refused;' +
          ' mount -t tmpfs x /mnt || echo mount-refused; mount -o remount,rw /proc/sys || echo remount-refused;' +
          ' umount /proc/timer_list || echo umount-refused',
      ),
    });
    expect(r.stdout).toContain('timer:0');
    expect(r.stdout).toContain('firmware:0');
    expect(r.stdout).toContain('sys-refused');
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(r.stdout).toContain('mount-refused');
    expect(r.stdout).toContain('remount-refused');
    expect(r.stdout).toContain('umount-refused');
    // Without --mask the same file has content: the test can tell the difference.
    const unmasked = await runInit({ cmd: sh('wc -c < /proc/timer_list') });
    expect(Number(unmasked.stdout.trim())).toBeGreaterThan(0);
  });

  it('propagates the exit code, and 128+signal for a signal', async () => {
    const exit3 = await runInit({ cmd: sh('exit 3') });
    expect(exit3.code).toBe(3);
    expect(exit3.status).toBe('exited 3\n');
    // PID 1 of a pid namespace ignores the signals it has no handler for, its own SIGKILL too (as under Docker)...
    const survived = await runInit({ cmd: sh('kill -9 $$; echo survived') });
    expect([survived.code, survived.stdout]).toEqual([0, 'survived\n']);
    // ...but not a SIGKILL from the host.
    let output: (() => string) | undefined;
    let shimPid = 0;
    const pending = runInit({ cmd: sh('echo ready; sleep 30'), onStart: (pid, out) => ((shimPid = pid), (output = out)) });
    for (let i = 0; i < 100 && !output?.().includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
    const pid1 = Number(readFileSync(`/proc/${shimPid}/task/${shimPid}/children`, 'utf8').trim());
    process.kill(pid1, 'SIGKILL');
    const killed = await pending;
    expect(killed.code).toBe(137);
    expect(killed.status).toBe('signaled 9\n');
  });

  it('reports exec failures: 127 for not found, 126 for not executable', async () => {
    const missing = await runInit({ cmd: ['no-such-command'] });
    expect(missing.code).toBe(127);
    expect(missing.status).toBe('exec-failed ENOENT exec: "no-such-command": executable file not found in $PATH\n');
    const missingPath = await runInit({ cmd: ['/bin/nope'] });
    expect(missingPath.code).toBe(127);
    expect(missingPath.status).toMatch(/^exec-failed ENOENT exec: "\/bin\/nope": No such file or directory\n$/);
    const notExec = await runInit({ cmd: ['/bin/not-executable'] });
    expect(notExec.code).toBe(126);
    expect(notExec.status).toMatch(/^exec-failed EACCES /);
    const notExecInPath = await runInit({ cmd: ['not-executable'] });
    expect(notExecInPath.code).toBe(126);
  });

  it("resolves --user through the container's /etc/passwd and /etc/group, with no capabilities for non-root", async () => {
    const named = await runInit({ args: ['--user', 'nobody'], cmd: sh('id; grep -E "CapEff|CapBnd" /proc/self/status') });
    expect(named.stdout).toContain('uid=65534(nobody) gid=65534(nogroup) groups=50(staff)');
    expect(named.stdout).toContain('CapEff:\t0000000000000000');
    expect(named.stdout).toContain('CapBnd:\t00000000a80425fb');
    const numeric = await runInit({ args: ['--user', '1000:nogroup'], cmd: ['id'] });
    // A uid without a passwd entry gets no supplementary groups (not even the host's).
    expect(numeric.stdout.trim()).toBe('uid=1000 gid=65534(nogroup)');
    const unknown = await runInit({ args: ['--user', 'ghost'], cmd: ['id'] });
    expect(unknown.code).toBe(125);
    expect(unknown.status).toMatch(/^setup-failed resolve-user ENOENT find user ghost: no matching entries in passwd file/);
  });

  it('creates the working directory and honours --readonly-rootfs', async () => {
    const r = await runInit({
      args: ['--cwd', '/work/dir', '--readonly-rootfs'],
      cmd: sh('pwd; touch /tmp/x || echo ro-refused'),
    });
    expect(r.stdout).toContain('/work/dir');
    expect(r.stdout).toContain('ro-refused');
    expect(r.stderr).toMatch(/Read-only file system/);
    rmSync(join(rootfs, 'work'), { recursive: true });
  });

  it('forwards a SIGTERM the shim gets to the command, and ends the orphans with it', async () => {
    let shimPid = 0;
    let output: (() => string) | undefined;
    const pending = runInit({
      cmd: sh('trap "exit 7" TERM; (sleep 30 &); echo ready; while :; do sleep 0.1; done'),
      onStart: (pid, out) => ((shimPid = pid), (output = out)),
    });
    for (let i = 0; i < 100 && !output?.().includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
    process.kill(shimPid, 'SIGTERM');
    const r = await pending;
    expect(r.code).toBe(7);
    expect(r.status).toBe('exited 7\n');
  });

  it('adds --groups (names from the container\'s /etc/group, or ids) to the user\'s own, and refuses an unknown name', async () => {
    const r = await runInit({ args: ['--user', 'nobody', '--groups', 'root,1234,staff'], cmd: ['grep', 'Groups', '/proc/self/status'] });
    // staff (50) is nobody's already; the kernel lists groups sorted.
    expect(r.stdout).toBe('Groups:\t0 50 1234 \n');
    const none = await runInit({ args: ['--user', 'nobody'], cmd: ['grep', 'Groups', '/proc/self/status'] });
    expect(none.stdout).toBe('Groups:\t50 \n');
    const unknown = await runInit({ args: ['--groups', 'ghosts'], cmd: ['true'] });
    expect(unknown.code).toBe(125);
    expect(unknown.status).toMatch(/^setup-failed resolve-groups ENOENT find group ghosts: Unable to find group ghosts: no matching entries in group file/);
  });

  it('sets --rlimit (Docker\'s ulimit names) and --oom-score-adj before the command runs', async () => {
    const r = await runInit({
      args: ['--rlimit', 'nofile=100:200', '--rlimit', 'core=0:0', '--oom-score-adj', '500'],
      cmd: sh('ulimit -n; ulimit -Hn; ulimit -c; cat /proc/self/oom_score_adj'),
    });
    expect(r.stdout).toBe('100\n200\n0\n500\n');
    const defaults = await runInit({ cmd: sh('ulimit -n; cat /proc/self/oom_score_adj') });
    expect(defaults.stdout).not.toBe('100\n500\n');
    const bad = await runInit({ args: ['--rlimit', 'nosuch=1:2'], cmd: ['true'] });
    expect(bad.code).toBe(125);
    expect(bad.status).toMatch(/^setup-failed parse-arguments EINVAL parse --rlimit/);
  });

  it('writes --sysctl in the container\'s own namespace, before /proc/sys goes read-only, and never on the host', async () => {
    const host = readFileSync('/proc/sys/kernel/msgmax', 'utf8');
    const value = host.trim() === '12345' ? '12346' : '12345';
    const r = await runInit({ args: ['--sysctl', `kernel.msgmax=${value}`, '--ro', '/proc/sys'], cmd: ['cat', '/proc/sys/kernel/msgmax'] });
    expect(r.stdout).toBe(`${value}\n`);
    expect(readFileSync('/proc/sys/kernel/msgmax', 'utf8')).toBe(host);
    const escape = await runInit({ args: ['--sysctl', 'kernel..x=1'], cmd: ['true'] });
    expect(escape.code).toBe(125);
  });

  it('lets a setuid program work without --no-new-privs (Docker\'s default), and not with it', async () => {
    const off = await runInit({ args: ['--user', 'nobody'], cmd: ['/bin/probe', 'euid'] });
    expect(off.stdout).toBe('0\n');
    const on = await runInit({ args: ['--user', 'nobody', '--no-new-privs'], cmd: ['/bin/probe', 'euid'] });
    expect(on.stdout).toBe('65534\n');
  });

  it('loads the --seccomp BPF program, with or without no_new_privs, as root or not', async () => {
    // mkdir and mkdirat answer EADDRNOTAVAIL; everything else is allowed (x86-64).
    const insns: Array<[number, number, number, number]> = [
      [0x20, 0, 0, 4], [0x15, 1, 0, 0xc000003e], [0x06, 0, 0, 0x7fff0000],
      [0x20, 0, 0, 0], [0x15, 2, 0, 83], [0x15, 1, 0, 258], [0x06, 0, 0, 0x7fff0000], [0x06, 0, 0, 0x00050000 | 99],
    ];
    const program = Buffer.alloc(insns.length * 8);
    insns.forEach(([code, jt, jf, k], i) => {
      program.writeUInt16LE(code, i * 8);
      program.writeUInt8(jt, i * 8 + 2);
      program.writeUInt8(jf, i * 8 + 3);
      program.writeUInt32LE(k, i * 8 + 4);
    });
    const filter = join(dir, 'filter.bpf');
    writeFileSync(filter, program);
    const script = sh('grep Seccomp: /proc/self/status; mkdir /tmp/blocked || echo refused');
    for (const args of [[], ['--no-new-privs'], ['--user', 'nobody'], ['--user', 'nobody', '--no-new-privs']]) {
      const r = await runInit({ args: ['--seccomp', filter, ...args], cmd: script });
      expect(r.stdout).toBe('Seccomp:\t2\nrefused\n');
      expect(r.stderr).toContain('Cannot assign requested address');
    }
    const without = await runInit({ cmd: script });
    expect(without.stdout).toBe('Seccomp:\t0\n');
    rmSync(join(rootfs, 'tmp', 'blocked'), { recursive: true });
    writeFileSync(filter, Buffer.alloc(12));
    const bad = await runInit({ args: ['--seccomp', filter], cmd: ['true'] });
    expect(bad.status).toMatch(/^setup-failed seccomp EINVAL read the seccomp filter \(not a BPF program\)/);
  });

  it('refuses container-only options in the exec role rather than skip them', async () => {
    const r = await runInit({ args: ['--exec-in', '1', '--sysctl', 'kernel.msgmax=1'], cmd: ['true'] });
    expect(r.code).toBe(125);
    expect(r.status).toMatch(/^setup-failed parse-arguments EINVAL parse arguments \(--rootfs, --mask, --ro, --sysctl, --readonly-rootfs and --pidns are not for --exec-in\)/);
  });

  it('refuses a /proc that is a symlink (CVE-2019-16884) and a /dev/null that is not 1:3 (CVE-2025-31133)', async () => {
    const evil = makeRootfs(join(dir, 'evil'));
    rmSync(join(evil, 'dev', 'null'));
    writeFileSync(join(evil, 'dev', 'null'), '');
    const badNull = await runInit({ rootfs: evil, args: ['--mask', '/proc/timer_list'], cmd: ['true'] });
    expect(badNull.code).toBe(125);
    expect(badNull.status).toMatch(/^setup-failed mask-path EPERM use \/dev\/null \(not char device 1:3\)/);
    expect(badNull.stderr).toContain('berth-init: failed to use /dev/null');

    mkdirSync(join(evil, 'elsewhere'));
    rmSync(join(evil, 'proc'), { recursive: true, force: true }); // made by the run above
    symlinkSync('/elsewhere', join(evil, 'proc'));
    const link = await runInit({ rootfs: evil, cmd: ['true'] });
    expect(link.code).toBe(125);
    expect(link.status).toMatch(/^setup-failed mount-proc ELOOP /);
    expect(readdirSync(join(evil, 'elsewhere'))).toEqual([]);
  });
});
