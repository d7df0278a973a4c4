import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cgroups } from '@berth/runtime';
import { type TestEnv, describeRoot, hostMountTable, openTestEnv } from '@berth/testing';

describeRoot('the launch: volumes, binds and isolation on the real kernel', () => {
  let env: TestEnv;
  let host: string;
  let before: string;

  beforeAll(async () => {
    before = hostMountTable();
    env = await openTestEnv();
    host = mkdtempSync(join(tmpdir(), 'berth-host-'));
  });
  afterAll(async () => {
    await env?.close();
    rmSync(host, { recursive: true, force: true });
    expect(hostMountTable()).toBe(before);
  });

  it('keeps a named volume across containers, stored at <root>/volumes/<name>/_data', async () => {
    const w = await env.run(['sh', '-c', 'echo persisted > /data/f'], { Binds: ['keep:/data'] });
    expect(w.status.exitCode).toBe(0);
    expect(readFileSync(join(env.root, 'volumes', 'keep', '_data', 'f'), 'utf8')).toBe('persisted\n');
    const r = await env.run(['cat', '/data/f'], { Binds: ['keep:/data'] });
    expect(r.output).toBe('persisted\n');
    expect(env.runtime.mountPoints(r.spec.mounts)).toEqual([
      { Type: 'volume', Name: 'keep', Destination: '/data', RW: true, Source: join(env.root, 'volumes', 'keep', '_data'), Driver: 'local', Mode: 'z', Propagation: '' },
    ]);
  });

  it('shows a bind mount both ways', async () => {
    writeFileSync(join(host, 'from-host'), 'hello from host\n');
    const r = await env.run(['sh', '-c', 'cat /h/from-host; echo from-container > /h/from-container'], { Binds: [`${host}:/h`] });
    expect(r.output).toBe('hello from host\n');
    expect(readFileSync(join(host, 'from-container'), 'utf8')).toBe('from-container\n');
  });

  it('refuses writes to a :ro bind with EROFS, submounts included, while other writes succeed', async () => {
    const src = join(host, 'ro-src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    // A submount visible under the bind source, made in berth's own namespace (never the host's).
    env.mountNamespace.run(() => env.syscalls.mount('tmpfs', join(src, 'sub'), 'tmpfs', 0, 'size=1m'));
    try {
      const r = await env.run(['sh', '-c', [
        'touch /ro/a 2>&1 | grep -o "Read-only file system"',
        'touch /ro/sub/berth-ro-probe 2>&1 | grep -o "Read-only file system"',
        'touch /rw-ok && echo wrote-elsewhere',
      ].join('; ')], { Binds: [`${src}:/ro:ro`] });
      expect(r.output).toBe('Read-only file system\nRead-only file system\nwrote-elsewhere\n');
    } finally {
      env.mountNamespace.run(() => env.syscalls.umount2(join(src, 'sub'), 0));
    }
  });

  it('creates anonymous volumes at <root>/volumes/<64 hex>/_data, image VOLUMEs included', async () => {
    await env.importImage({ tag: 'withvol:latest', volumes: ['/image-vol'] });
    const r = await env.run(['sh', '-c', 'echo a > /anon/f; echo b > /image-vol/f'], {}, { Volumes: { '/anon': {} } }, 'withvol');
    expect(r.status.exitCode).toBe(0);
    const anonymous = r.spec.mounts.filter((m) => m.anonymous).map((m) => m.source);
    expect(anonymous).toHaveLength(2);
    for (const name of anonymous) {
      expect(name).toMatch(/^[0-9a-f]{64}$/);
      expect(existsSync(join(env.root, 'volumes', name, '_data', 'f'))).toBe(true);
    }
  });

  it('removes the anonymous volumes a container held even when the caller lost track of them', async () => {
    const c = await env.start(['true'], {}, { Volumes: { '/anon': {} } });
    await c.started.exited;
    const [name] = c.spec.mounts.filter((m) => m.anonymous).map((m) => m.source);
    expect(env.volumes.find(name!)).toBeDefined();
    // As after a supervisor crash mid-start: no record of the volume's name.
    await env.runtime.cleanup(c.id, { removeAnonymousVolumes: true });
    expect(env.volumes.find(name!)).toBeUndefined();
  });

  it('copies image content into an empty volume, and not with nocopy', async () => {
    const copied = await env.run(['cat', '/etc/hostname'], { Mounts: [{ Type: 'volume', Source: 'cu', Target: '/etc' }] });
    expect(copied.output).toBe('busybox\n');
    expect(readFileSync(join(env.root, 'volumes', 'cu', '_data', 'passwd'), 'utf8')).toContain('root:x:0:0');
    const nocopy = await env.run(['ls', '-A', '/etc'], { Mounts: [{ Type: 'volume', Source: 'nc', Target: '/etc', VolumeOptions: { NoCopy: true } }] });
    expect(nocopy.output).toBe('');
    expect(readdirSync(join(env.root, 'volumes', 'nc', '_data'))).toEqual([]);
  });

  it('enforces a tmpfs size: 0.5 MB fits in 1 MB, 2 MB does not', async () => {
    const r = await env.run(['sh', '-c', [
      'dd if=/dev/zero of=/t/small bs=1k count=512 2>/dev/null && echo small-ok',
      'rm /t/small',
      'dd if=/dev/zero of=/t/big bs=1k count=2048 2>/dev/null || echo big-refused',
    ].join('; ')], { Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024 * 1024 } }] });
    expect(r.output).toBe('small-ok\nbig-refused\n');
  });

  it('leaves the host mount table byte-identical before, during and after a running container', async () => {
    const start = hostMountTable();
    const c = await env.start(['sleep', '30'], { Binds: ['during:/d', `${host}:/h`], Tmpfs: { '/t': 'size=64k' } });
    expect(hostMountTable()).toBe(start);
    process.kill(c.started.pid, 'SIGKILL');
    const status = await c.started.exited;
    expect(status.exitCode).toBe(137);
    env.runtime.cleanup(c.id, { removeAnonymousVolumes: true });
    expect(hostMountTable()).toBe(start);
  });

  it('finds the PID 1 of a start nobody recorded (strayInits) from the state its shim wrote, and no other', async () => {
    const { started, id } = await env.start(['sleep', '100']);
    try {
      expect(env.runtime.strayInits(join(env.root, `${id}.status`))).toEqual([started.pid]);
      expect(env.runtime.strayInits(join(env.root, 'no-such.status'))).toEqual([]);
    } finally {
      process.kill(started.pid, 'SIGKILL');
      await started.exited;
      await env.runtime.cleanup(id, { removeAnonymousVolumes: true });
    }
  });

  it('shows only the container\'s processes in /proc, with the command as PID 1', async () => {
    const r = await env.run(['sh', '-c', 'ls /proc | grep -E "^[0-9]+$" | sort -n | tr "\\n" " "; cat /proc/1/cmdline | tr "\\0" " "']);
    const pids = r.output.split(' ').filter((p) => /^\d+$/.test(p)).map(Number);
    expect(pids[0]).toBe(1);
    // Only the shell and its pipeline: no host process is visible, and nothing of berth.
    expect(Math.max(...pids)).toBeLessThan(20);
    expect(pids.length).toBeLessThan(10);
    expect(r.output).toContain('sh -c ls /proc');
    expect(r.output).not.toContain('berth');
    expect(r.output).not.toContain(env.root);
  });

  it('sets the hostname, defaulting to the short id', async () => {
    expect((await env.run(['hostname'], {}, { Hostname: 'berthbox' })).output).toBe('berthbox\n');
    const r = await env.run(['hostname']);
    expect(r.output.trim()).toBe(r.started.id.slice(0, 12));
  });

  it('keeps container root contained: no remount rw of a :ro volume, no mount, no unmasking', async () => {
    const r = await env.run(['sh', '-c', [
      'mount -o remount,rw /ro 2>/dev/null && echo REMOUNTED',
      'mount -t tmpfs none /mnt 2>/dev/null && echo MOUNTED',
      'umount /proc/timer_list 2>/dev/null && echo UNMASKED',
      'touch /ro/x 2>/dev/null && echo WROTE',
      'wc -c < /proc/timer_list',
      'grep CapEff /proc/self/status',
    ].join('; ')], { Binds: ['rovol:/ro:ro'] });
    expect(r.output).toBe('0\nCapEff:\t00000000a80425fb\n');
  });

  it('leaks no host file descriptor into the container (runc CVE-2024-21626)', async () => {
    // The shell's own fds only: stdin, stdout, stderr, and the one ls opens to list them.
    const r = await env.run(['sh', '-c', 'ls /proc/self/fd | tr "\\n" " "']);
    expect(r.output.trim().split(' ').map(Number).filter((fd) => fd > 3)).toEqual([]);
  });

  it('stops a fork bomb at --pids-limit and kills a memory hog at --memory', async () => {
    const bomb = await env.run(['sh', '-c', 'i=0; while [ $i -lt 100 ]; do sleep 5 & i=$((i+1)); done 2>/dev/null; ls /proc | grep -cE "^[0-9]+$"'],
      { PidsLimit: 20 });
    expect(Number(bomb.output.trim())).toBeLessThanOrEqual(20);
    const hog = await env.run(['sh', '-c', 'head -c 200m /dev/zero | tail > /dev/null'], { Memory: 32 * 1024 * 1024, MemorySwap: 32 * 1024 * 1024 });
    expect(hog.status.oomKilled).toBe(true);
    // The cgroups made for the limits are gone with the containers.
    const cgroups = Cgroups.detect();
    expect([...cgroups.pathsFor(bomb.started.id), ...cgroups.pathsFor(hog.started.id)].filter((p) => existsSync(p))).toEqual([]);
  });

  it('mounts a tmpfs-backed volume (driver options) in berth\'s namespace, never on the host', async () => {
    const start = hostMountTable();
    const mount = { Type: 'volume', Source: 'tmpvol', Target: '/t',
      VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } } } };
    const r = await env.run(['sh', '-c', [
      'dd if=/dev/zero of=/t/a bs=1k count=512 2>/dev/null && echo fits',
      'dd if=/dev/zero of=/t/b bs=1k count=1024 2>/dev/null || echo full',
      'grep " /t " /proc/mounts | cut -d" " -f3',
    ].join('; ')], { Mounts: [mount] });
    expect(r.output).toBe('fits\nfull\ntmpfs\n');
    expect(hostMountTable()).toBe(start);
    // The data never reached the volume directory on the host's disk.
    expect(readdirSync(join(env.root, 'volumes', 'tmpvol', '_data'))).toEqual([]);
  });

  it('refuses a shared bind whose source is not on a shared mount, with Docker\'s message', async () => {
    const shared = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
      .some((l) => /shared:/.test(l) && ['/', '/tmp'].includes(l.split(' ')[4] ?? ''));
    if (shared) {
      console.warn('skipping the not-shared case: / or /tmp is a shared mount on this host');
      return;
    }
    await expect(env.run(['true'], { Binds: [`${host}:/h:rshared`] })).rejects.toThrow(/is mounted on .* but it is not a shared mount/);
  });

  it('reports a missing command as 127 and a non-executable one as 126', async () => {
    const missing = await env.run(['no-such-command']);
    expect(missing.status.exitCode).toBe(127);
    expect(missing.status.error).toMatch(/no-such-command/);
    const noexec = await env.run(['/etc/passwd']);
    expect(noexec.status.exitCode).toBe(126);
  });

  it('gives a private network with loopback up by default, and the host\'s with NetworkMode host', async () => {
    const none = await env.run(['sh', '-c', 'ls /sys/class/net; cat /sys/class/net/lo/flags'], { NetworkMode: 'default' });
    // Only loopback, and it is up (IFF_UP|IFF_LOOPBACK = 0x9).
    expect(none.output).toBe('lo\n0x9\n');
    const hostNet = await env.run(['ls', '/sys/class/net'], { NetworkMode: 'host' });
    expect(hostNet.output.split('\n').filter(Boolean).sort()).toEqual(readdirSync('/sys/class/net').sort());
  });

  it('makes the rootfs read-only with ReadonlyRootfs, leaving volumes writable', async () => {
    const r = await env.run(['sh', '-c', 'touch /x 2>/dev/null || echo rootfs-ro; touch /v/x && echo vol-rw'], { ReadonlyRootfs: true, Binds: ['rorootvol:/v'] });
    expect(r.output).toBe('rootfs-ro\nvol-rw\n');
  });

  it('contains symlink-attack images: a volume on /data -> /etc lands on the container\'s own /etc', async () => {
    const hash = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
    const hostPasswd = hash('/etc/passwd');
    const hostEtc = readdirSync('/etc').sort();
    await env.importImage({ tag: 'evil:latest', symlinks: { data: '/etc', proc2: '/proc/self/root/etc', up: '../../../../../../../../../../../../../../etc' } });
    const r = await env.run(['sh', '-c', 'echo owned > /data/pwned; echo owned > /proc2/pwned2; echo owned > /up/pwned3; ls /etc | grep pwned | tr "\\n" " "'],
      { Binds: ['evilvol:/data', `${host}:/proc2`, 'evilvol2:/up'] }, {}, 'evil');
    // All three writes land on the container's own /etc (the topmost volume mounted there).
    expect(r.output).toBe('pwned pwned2 pwned3 ');
    expect(hash('/etc/passwd')).toBe(hostPasswd);
    expect(readdirSync('/etc').sort()).toEqual(hostEtc);
    expect(existsSync('/etc/pwned')).toBe(false);
    expect(readdirSync(join(env.root, 'volumes', 'evilvol2', '_data'))).toEqual(expect.arrayContaining(['pwned', 'pwned2', 'pwned3', 'passwd']));
    expect(readdirSync(host)).not.toContain('pwned2');
  });

  it('refuses images whose /proc, /dev or /sys is a symlink, with a clear error', async () => {
    for (const dir of ['proc', 'dev', 'sys']) {
      await env.importImage({ tag: `bad${dir}:latest`, omit: [dir], symlinks: { [dir]: '/etc' } });
      await expect(env.run(['true'], {}, {}, `bad${dir}`)).rejects.toThrow(/failed to start container .*ELOOP/);
    }
    expect(existsSync('/etc/null')).toBe(false);
  });
});
