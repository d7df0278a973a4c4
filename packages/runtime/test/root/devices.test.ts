import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Cgroups } from '@berth/runtime';
import { type TestEnv, describeRoot, ownMountTable, openTestEnv } from '@berth/testing';

// /dev/loop-control (c 10:237) is outside Docker's default device list;
// opening it does nothing (its ioctls need CAP_SYS_ADMIN), so it shows
// what the device cgroup allows and nothing else.
const LOOP_CONTROL = statSync('/dev/loop-control');
// A subshell: ash gives up the whole script when a redirection fails.
const OPEN_K = '(true < /dev/k) 2>/dev/null && echo opened || echo refused';

describeRoot('the device cgroup and devices on the real kernel', () => {
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

  it('lets a default container mknod a device but not open it (EPERM), while /dev/null still works', async () => {
    expect(LOOP_CONTROL.isCharacterDevice()).toBe(true);
    const r = await env.run(['sh', '-c', `mknod /dev/k c 10 237 && echo made; ${OPEN_K}; (true < /dev/k); echo x > /dev/null && echo null-ok`]);
    expect(r.output).toBe('made\nrefused\nsh: can\'t open /dev/k: Operation not permitted\nnull-ok\n');
  });

  it('--device maps a host node under a new name, with its numbers and mode, and allows it', async () => {
    const r = await env.run(['sh', '-c', 'stat -c "%t:%T %a" /dev/mynull /dev/myloop; echo x > /dev/mynull && echo wrote; (true < /dev/myloop) && echo opened'], {
      Devices: [
        { PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rwm' },
        { PathOnHost: '/dev/loop-control', PathInContainer: '/dev/myloop', CgroupPermissions: 'r' },
      ],
    });
    const mode = (LOOP_CONTROL.mode & 0o777).toString(8);
    expect(r.output).toBe(`1:3 666\na:ed ${mode}\nwrote\nopened\n`);
  });

  it('--device-cgroup-rule allows what it names, and only that', async () => {
    const allowed = await env.run(['sh', '-c', `mknod /dev/k c 10 237; ${OPEN_K}`], { DeviceCgroupRules: ['c 10:237 r'] });
    expect(allowed.output).toBe('opened\n');
    const other = await env.run(['sh', '-c', `mknod /dev/k c 10 237; ${OPEN_K}`], { DeviceCgroupRules: ['c 10:238 r'] });
    expect(other.output).toBe('refused\n');
    await expect(env.run(['true'], { DeviceCgroupRules: ['c 10:237 rwx'] })).rejects.toThrow("invalid device cgroup rule format: 'c 10:237 rwx'");
  });

  it('--privileged: the host\'s device nodes, every device allowed, /sys read-write, nothing masked', async () => {
    const r = await env.run(['sh', '-c', [
      'ls -l /dev/loop-control | cut -c1',
      '(true < /dev/loop-control) && echo opened',
      'grep " /sys sysfs" /proc/mounts | cut -d" " -f4 | cut -d, -f1',
      'grep -c " /proc/kcore " /proc/mounts',
    ].join('; ')], { Privileged: true });
    expect(r.output).toBe('c\nopened\nrw\n0\n');
  });

  it('gives every container its own cgroup, limits or not, with the devices controller, and removes it with the container', async () => {
    const cgroups = Cgroups.detect();
    const c = await env.start(['sh', '-c', 'cat /proc/self/cgroup; sleep 30']);
    const paths = cgroups.pathsFor(c.id);
    try {
      expect(paths.some((p) => p.includes('/devices/'))).toBe(true);
      // A cpuset cgroup only for a container that asks for one (--cpuset-cpus).
      for (const p of paths.filter((dir) => !dir.includes('/cpuset/'))) {
        expect(existsSync(p)).toBe(true);
        expect(readFileSync(join(p, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(c.started.pid));
      }
      const devices = paths.find((p) => p.includes('/devices/'))!;
      expect(readFileSync(join(devices, 'devices.list'), 'utf8').trim().split('\n').sort()).toEqual([
        'b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 10:200 rwm', 'c 136:* rwm',
        'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm',
      ].sort());
    } finally {
      process.kill(c.started.pid, 'SIGKILL');
      await c.started.exited;
      await env.runtime.cleanup(c.id, { removeAnonymousVolumes: false });
    }
    expect(paths.filter((p) => existsSync(p))).toEqual([]);
  });

  it('starts a container whose previous run\'s cgroup is still there (empty): it is taken over', async () => {
    const { id, spec } = env.create(['true']);
    const startOnce = () => env.runtime.start({ id, spec, stdio: { stdout: 1, stderr: 2 }, statusPath: join(env.root, `${id}.status`) });
    const cgroups = Cgroups.detect();
    // As when a restart comes before the background removal after the last exit.
    const leftover = cgroups.create(id, {});
    try {
      expect((await (await startOnce()).exited).exitCode).toBe(0);
    } finally {
      await env.runtime.cleanup(id, { removeAnonymousVolumes: false });
    }
    expect(leftover.paths.filter((p) => existsSync(p))).toEqual([]);
  });

  it('refuses a --device whose host path is missing or not a device, with Docker\'s message', async () => {
    await expect(env.run(['true'], { Devices: [{ PathOnHost: '/dev/berth-nonexistent', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }] }))
      .rejects.toThrow('error gathering device information while adding custom device "/dev/berth-nonexistent": no such file or directory');
    await expect(env.run(['true'], { Devices: [{ PathOnHost: '/etc/hostname', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }] }))
      .rejects.toThrow('error gathering device information while adding custom device "/etc/hostname": not a device node');
  });
});
