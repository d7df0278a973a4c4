import {
  CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, MS_BIND, MS_NODEV,
  MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_SHARED,
} from '@berth/syscall';
import { describe, expect, it } from 'vitest';
import { PlanError } from '../../src/errors.js';
import { planLaunch, validateNamespaceModes, type PlanInput, type ResolvedMount } from '../../src/plan/index.js';
import { cliToApiFields, resolveMounts, type CliMountFlags } from '../../src/spec/index.js';
import { mergeImageConfig, type ImageFacts } from '../../src/container/index.js';

const ID = 'abcdef0123456789'.repeat(4);

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    containerId: ID,
    config: { Cmd: ['sh'] },
    hostConfig: {},
    mounts: [],
    rootfs: { type: 'overlay', source: 'overlay', target: '/b/containers/x/mnt', options: ['lowerdir=/l', 'upperdir=/u', 'workdir=/w'] },
    initPath: '/usr/lib/berth/berth-init',
    ...over,
  };
}

function planError(fn: () => unknown): PlanError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return error as PlanError;
  }
  throw new Error('expected a PlanError');
}

/** Mounts from CLI flags, resolved as the runtime would (volume data dirs under /b/volumes). */
function mountsFor(flags: CliMountFlags, imageVolumes: string[] = []): ResolvedMount[] {
  return resolveMounts(cliToApiFields(flags, { cwd: '/' }), { imageVolumes }).map((spec) => {
    const name = spec.type === 'volume' ? (spec.source || `anon${spec.destination.replace(/\//g, '_')}`) : undefined;
    return {
      spec,
      source: spec.type === 'volume' ? `/b/volumes/${name}/_data` : spec.type === 'bind' ? spec.source : 'tmpfs',
      ...(name ? { volumeName: name } : {}),
      sourceIsFile: false,
      anonymous: spec.anonymous,
    };
  });
}

describe('planLaunch defaults', () => {
  it('gives Docker defaults for a bare container', () => {
    const plan = planLaunch(input());
    expect(plan.hostname).toBe(ID.slice(0, 12));
    expect(plan.env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${ID.slice(0, 12)}`]);
    expect(plan.cwd).toBe('/');
    expect(plan.user).toBe('');
    expect(plan.process).toEqual({ args: ['sh'], tty: false });
    expect(plan.init).toBe(false);
    expect(plan.readonlyRootfs).toBe(false);
    expect(plan.limits).toEqual({});
    expect(plan.cgroupParent).toBe('');
    expect(plan.initPath).toBe('/usr/lib/berth/berth-init');
    expect(plan.rootfs.target).toBe('/b/containers/x/mnt');
  });

  it('uses Docker masked and read-only paths when the fields are null, and none for []', () => {
    const plan = planLaunch(input({ hostConfig: { MaskedPaths: null, ReadonlyPaths: null } }));
    expect(plan.maskedPaths).toEqual([
      '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
      '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
      '/sys/devices/virtual/powercap',
    ]);
    expect(plan.readonlyPaths).toEqual(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
    const none = planLaunch(input({ hostConfig: { MaskedPaths: [], ReadonlyPaths: ['/proc/x'] } }));
    expect(none.maskedPaths).toEqual([]);
    expect(none.readonlyPaths).toEqual(['/proc/x']);
  });

  it("drops capabilities to Docker's default set", () => {
    const caps = planLaunch(input()).capabilities;
    expect(caps.names).toEqual([
      'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
      'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
    ]);
    expect(caps.mask.toString(16)).toBe('a80425fb');
  });

  it('plans the minimal /dev, a read-only /sys and /proc', () => {
    const plan = planLaunch(input());
    expect(plan.dev.devices.map((d) => [d.name, d.major, d.minor, d.mode])).toEqual([
      ['null', 1, 3, 0o666], ['zero', 1, 5, 0o666], ['full', 1, 7, 0o666], ['random', 1, 8, 0o666],
      ['urandom', 1, 9, 0o666], ['tty', 5, 0, 0o666],
    ]);
    expect(plan.dev.mounts.map((m) => [m.name, m.fstype, m.data])).toEqual([
      ['pts', 'devpts', 'newinstance,ptmxmode=0666,mode=0620,gid=5'], ['shm', 'tmpfs', 'mode=1777,size=65536k'], ['mqueue', 'mqueue', null],
    ]);
    expect(plan.dev.symlinks).toContainEqual({ name: 'ptmx', target: 'pts/ptmx' });
    expect(plan.dev.symlinks.map((s) => s.name)).toEqual(['ptmx', 'fd', 'stdin', 'stdout', 'stderr']);
    expect(plan.sys.flags & MS_RDONLY).toBe(MS_RDONLY);
    expect(plan.sys.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC)).toBe(MS_NOSUID | MS_NODEV | MS_NOEXEC);
    expect(plan.proc.destination).toBe('/proc');
  });

  it('lets a user mount on /dev/shm replace the default one', () => {
    const plan = planLaunch(input({ mounts: mountsFor({ tmpfs: ['/dev/shm:size=1g'] }) }));
    expect(plan.dev.mounts.map((m) => m.name)).toEqual(['pts', 'mqueue']);
  });

  it('is JSON-serialisable as is', () => {
    const plan = planLaunch(input({ mounts: mountsFor({ volume: ['vol:/data', '/h:/h:ro'], tmpfs: ['/t'] }, ['/img']) }));
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});

describe('network and namespaces', () => {
  // The launching thread never unshares the pid namespace: the shim does, so its child is PID 1.
  const base = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
  it.each(['', 'default', 'none', undefined, null])('gives %j a private network namespace', (mode) => {
    const plan = planLaunch(input({ hostConfig: mode === undefined ? {} : { NetworkMode: mode } }));
    expect(plan.network).toBe('none');
    expect(plan.namespaces).toBe(base | CLONE_NEWNET);
  });

  it('gives the command a new pid namespace through the shim, never through the thread', () => {
    const plan = planLaunch(input({}));
    expect(plan.pidNamespace).toBe('new');
    expect(plan.namespaces & CLONE_NEWPID).toBe(0);
  });

  it('keeps the host network for host, and its hostname when given', () => {
    const plan = planLaunch(input({ hostConfig: { NetworkMode: 'host' }, config: { Cmd: ['sh'], Hostname: 'box' } }));
    expect(plan.network).toBe('host');
    expect(plan.namespaces).toBe(base);
    expect(plan.namespaces & CLONE_NEWNET).toBe(0);
    expect(plan.hostname).toBe('box');
  });

  it('refuses networks berth does not have', () => {
    expect(planError(() => planLaunch(input({ hostConfig: { NetworkMode: 'mynet' } })))).toMatchObject({ code: 'no-such-network', kind: 'not-found', message: 'network mynet not found' });
    // Docker's default bridge is a network too: with no network service to provide it, it is not there (never loopback in silence).
    expect(planError(() => planLaunch(input({ hostConfig: { NetworkMode: 'bridge' } })))).toMatchObject({ code: 'no-such-network', message: 'network bridge not found' });
    expect(planError(() => planLaunch(input({ hostConfig: { NetworkMode: 'container:x' } }))).code).toBe('unsupported-network');
  });

  it('gives a user network or container: a private namespace when the caller provides it (a network hook)', () => {
    for (const NetworkMode of ['mynet', 'container:x']) {
      const plan = planLaunch({ ...input({ hostConfig: { NetworkMode } }), networkProvided: true });
      expect(plan.network).toBe('none');
      expect(plan.namespaces & CLONE_NEWNET).toBe(CLONE_NEWNET);
    }
  });
});

/** The stored config of a container created from `image` with `config` (the merge happens once, at create). */
const merged = (image: ImageFacts['config'], config: Record<string, unknown>) => mergeImageConfig({ Image: 'img', ...config }, image);

describe('entrypoint and cmd (Docker merge rules)', () => {
  const plan = (image: ImageFacts['config'], config: Record<string, unknown>) => planLaunch(input({ config: merged(image, config) })).process.args;

  it('uses the image Entrypoint + Cmd by default', () => {
    expect(plan({ Entrypoint: ['/ep'], Cmd: ['a'] }, {})).toEqual(['/ep', 'a']);
  });
  it('replaces the image Cmd with the container Cmd, keeping the image Entrypoint', () => {
    expect(plan({ Entrypoint: ['/ep'], Cmd: ['a'] }, { Cmd: ['b', 'c'] })).toEqual(['/ep', 'b', 'c']);
  });
  it('drops the image Cmd when the container sets an Entrypoint', () => {
    expect(plan({ Entrypoint: ['/ep'], Cmd: ['a'] }, { Entrypoint: ['/mine'] })).toEqual(['/mine']);
    expect(plan({ Entrypoint: ['/ep'], Cmd: ['a'] }, { Entrypoint: ['/mine'], Cmd: ['x'] })).toEqual(['/mine', 'x']);
  });
  it('treats Entrypoint [""] as no entrypoint', () => {
    expect(plan({ Entrypoint: ['/ep'], Cmd: ['a'] }, { Entrypoint: [''], Cmd: ['ls'] })).toEqual(['ls']);
  });
  it('treats an empty container Entrypoint like an absent one for the Cmd', () => {
    expect(plan({ Cmd: ['a'] }, { Entrypoint: [] })).toEqual(['a']);
  });
  it("says Docker's `No command specified`", () => {
    const err = planError(() => plan({}, {}));
    expect(err.message).toBe('No command specified');
    expect(err.code).toBe('no-command');
    expect(planError(() => plan({ Entrypoint: ['/ep'], Cmd: ['a'] }, { Entrypoint: [''] })).message).toBe('No command specified');
  });
});

describe('env, cwd, user, hostname', () => {
  it('merges env: container wins, image fills in, PATH default replaced', () => {
    const plan = planLaunch(input({
      config: merged({ Cmd: ['sh'], Env: ['PATH=/img/bin', 'A=image', 'B=image'] }, { Env: ['A=container', 'C=c', 'HOSTNAME'], Tty: true }),
    }));
    expect(plan.env).toEqual(['PATH=/img/bin', 'TERM=xterm', 'A=container', 'C=c', 'B=image']);
  });

  it('takes WorkingDir and User from the container, then the image, and cleans the cwd', () => {
    expect(planLaunch(input({ config: merged({ Cmd: ['sh'], WorkingDir: '/app', User: 'nobody' }, {}) })).cwd).toBe('/app');
    const plan = planLaunch(input({ config: merged({ Cmd: ['sh'], WorkingDir: '/app', User: 'nobody' }, { WorkingDir: '/w/./x/', User: '1000:1000' }) }));
    expect([plan.cwd, plan.user]).toEqual(['/w/x', '1000:1000']);
    expect(planError(() => planLaunch(input({ config: { Cmd: ['sh'], WorkingDir: 'rel' } }))).message)
      .toBe("the working directory 'rel' is invalid, it needs to be an absolute path");
  });

  it('uses the given hostname', () => {
    const plan = planLaunch(input({ config: { Cmd: ['sh'], Hostname: 'web' } }));
    expect(plan.hostname).toBe('web');
    expect(plan.env).toContain('HOSTNAME=web');
  });
});

describe('limits', () => {
  const limits = (hostConfig: PlanInput['hostConfig'], hostCpus?: number) =>
    planLaunch(input({ hostConfig, ...(hostCpus ? { hostCpus } : {}) })).limits;

  it('treats 0 and null as unlimited', () => {
    expect(limits({ Memory: 0, MemorySwap: 0, PidsLimit: null, NanoCpus: 0, CpuShares: 0 })).toEqual({});
    expect(limits({ PidsLimit: -1 })).toEqual({});
  });
  it('sets swap to twice the memory by default, -1 for unlimited', () => {
    expect(limits({ Memory: 64 << 20 })).toEqual({ memoryBytes: 64 << 20, memorySwapBytes: 128 << 20 });
    expect(limits({ Memory: 64 << 20, MemorySwap: -1 })).toEqual({ memoryBytes: 64 << 20, memorySwapBytes: -1 });
  });
  it('turns NanoCpus into a CFS quota', () => {
    expect(limits({ NanoCpus: 1_500_000_000 })).toEqual({ cpuQuotaUs: 150_000, cpuPeriodUs: 100_000 });
    expect(limits({ CpuQuota: 50_000, CpuPeriod: 100_000, CpuShares: 512, PidsLimit: 64 }))
      .toEqual({ cpuQuotaUs: 50_000, cpuPeriodUs: 100_000, cpuShares: 512, pidsMax: 64 });
  });
  it.each([
    [{ Memory: 1024 }, 'Minimum memory limit allowed is 6MB'],
    [{ MemorySwap: 64 << 20 }, 'You should always set the Memory limit when using Memoryswap limit, see usage'],
    [{ Memory: 64 << 20, MemorySwap: 32 << 20 }, 'Minimum memoryswap limit should be larger than memory limit, see usage'],
    [{ NanoCpus: 1e9, CpuPeriod: 100000 }, 'Conflicting options: Nano CPUs and CPU Period cannot both be set'],
    [{ NanoCpus: 1e9, CpuQuota: 100000 }, 'Conflicting options: Nano CPUs and CPU Quota cannot both be set'],
    [{ CpuPeriod: 10 }, 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)'],
    [{ CpuQuota: 10 }, 'CPU cfs quota can not be less than 1ms (i.e. 1000)'],
    [{ Memory: 1.5 }, 'invalid HostConfig.Memory: expected an integer'],
  ])('refuses %j', (hostConfig, expected) => {
    expect(planError(() => limits(hostConfig)).message).toBe(expected);
  });
  it('refuses more CPUs than the host has', () => {
    expect(planError(() => limits({ NanoCpus: 3e9 }, 2)).message).toBe('Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
  });
  it('passes Init and ReadonlyRootfs through', () => {
    const plan = planLaunch(input({ hostConfig: { Init: true, ReadonlyRootfs: true } }));
    expect([plan.init, plan.readonlyRootfs]).toEqual([true, true]);
  });
  it("runs Docker's docker-init as PID 1 with Init: tini bound read-only at /sbin/docker-init, after every other mount", () => {
    const plan = planLaunch(input({ hostConfig: { Init: true }, config: { Cmd: ['sh', '-c', 'x'] }, mounts: mountsFor({ volume: ['vol:/data'] }), initBinary: '/opt/tini' }));
    expect(plan.process.args).toEqual(['/sbin/docker-init', '--', 'sh', '-c', 'x']);
    expect(plan.mounts.at(-1)).toMatchObject({
      kind: 'bind', source: '/opt/tini', destination: '/sbin/docker-init', readOnly: true, sourceIsFile: true, recursive: false,
    });
    expect(planLaunch(input({ hostConfig: { Init: true } })).mounts.at(-1)?.source).toBe('/usr/bin/tini-static');
    const without = planLaunch(input({ config: { Cmd: ['sh'] } }));
    expect(without.process.args).toEqual(['sh']);
    expect(without.mounts.some((m) => m.destination === '/sbin/docker-init')).toBe(false);
  });
});

describe('planned mounts', () => {
  it('keeps the resolved order and plans binds of volume data dirs', () => {
    const plan = planLaunch(input({
      mounts: mountsFor({ volume: ['/h/conf:/etc/app/conf.d:ro', 'vol:/etc', 'nc:/nc:nocopy'] }, ['/img']),
    }));
    expect(plan.mounts.map((m) => [m.destination, m.kind, m.type, m.source])).toEqual([
      ['/etc', 'bind', 'volume', '/b/volumes/vol/_data'],
      ['/nc', 'bind', 'volume', '/b/volumes/nc/_data'],
      ['/img', 'bind', 'volume', '/b/volumes/anon_img/_data'],
      ['/etc/app/conf.d', 'bind', 'bind', '/h/conf'],
    ]);
    const [etc, nc, img, conf] = plan.mounts;
    expect(etc?.copyUp).toEqual({ volume: 'vol', fromImage: false });
    expect(nc?.copyUp).toBeUndefined();
    expect(img?.copyUp).toEqual({ volume: 'anon_img', fromImage: true });
    expect(img?.anonymous).toBe(true);
    expect(conf).toMatchObject({
      readOnly: true, recursive: true, recursiveReadOnly: true, flags: MS_BIND | MS_REC, propagation: MS_PRIVATE,
      propagationRecursive: true, createSource: true,
    });
    expect(conf?.copyUp).toBeUndefined();
  });

  it('honours bind-recursive and propagation', () => {
    const plan = planLaunch(input({
      mounts: mountsFor({
        mount: ['type=bind,src=/a,dst=/a,ro,bind-recursive=writable', 'type=bind,src=/b,dst=/b,bind-recursive=disabled',
          'type=bind,src=/c,dst=/c,bind-propagation=shared', 'type=volume,src=v,dst=/v,volume-subpath=x/y'],
      }),
    }));
    const [a, b, c, v] = plan.mounts;
    expect(a).toMatchObject({ readOnly: true, recursive: true, recursiveReadOnly: false, createSource: false });
    expect(b).toMatchObject({ recursive: false, flags: MS_BIND });
    expect(c).toMatchObject({ propagation: MS_SHARED, propagationRecursive: false });
    expect(v).toMatchObject({ subpath: 'x/y', source: '/b/volumes/v/_data' });
  });

  it('plans tmpfs with Docker defaults merged with size, mode and options', () => {
    const plan = planLaunch(input({
      mounts: mountsFor({ tmpfs: ['/run:size=64k,exec'], mount: ['type=tmpfs,dst=/s,tmpfs-size=1048576,tmpfs-mode=700,ro'] }),
    }));
    const [s, run] = plan.mounts;
    expect(run).toMatchObject({ kind: 'tmpfs', source: 'tmpfs', flags: MS_NOSUID | MS_NODEV, data: 'size=64k', readOnly: false });
    expect(s).toMatchObject({ kind: 'tmpfs', flags: MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, data: 'mode=700,size=1m', readOnly: true });
    expect(s?.propagation).toBe(MS_PRIVATE);
  });

});

describe('planLaunch: --pid, --ipc and --uts modes', () => {
  // The pid namespace is never the thread's: the shim makes it (pidNamespace 'new'), so the command is PID 1.
  const ALL = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;

  it('unshares everything by default, with its own /dev/shm, and joins nothing', () => {
    const p = planLaunch(input());
    expect(p.namespaces).toBe(ALL);
    expect(p.pidNamespace).toBe('new');
    expect(p.joinNamespaces).toEqual({});
    expect(p.sharedShm).toBeUndefined();
    expect(p.dev.mounts.map((m) => m.name)).toEqual(['pts', 'shm', 'mqueue']);
    for (const mode of ['private', 'shareable']) expect(planLaunch(input({ hostConfig: { IpcMode: mode } })).namespaces).toBe(ALL);
  });

  it('keeps the host\'s pid, ipc and uts namespaces for host modes; the hostname is the host\'s', () => {
    // The hostname is resolved at create: the host's own with --uts host.
    const p = planLaunch(input({ hostConfig: { PidMode: 'host', IpcMode: 'host', UTSMode: 'host' }, config: { Cmd: ['sh'], Hostname: 'the-host' } }));
    expect(p.namespaces).toBe(CLONE_NEWNS | CLONE_NEWNET);
    expect(p.pidNamespace).toBe('host');
    expect(p.sharedShm).toEqual({});
    expect(p.hostname).toBe('the-host');
    expect(p.env).toContain('HOSTNAME=the-host');
  });

  it('joins the donor\'s namespaces for container: modes, and takes its /dev/shm', () => {
    const p = planLaunch(input({ hostConfig: { PidMode: 'container:web', IpcMode: 'container:web' }, namespaceDonors: { pid: 42, ipc: 43 } }));
    expect(p.namespaces).toBe(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWNET);
    expect(p.joinNamespaces).toEqual({ ipc: '/proc/43/ns/ipc' });
    expect(p.pidNamespace).toBe('/proc/42/ns/pid');
    expect(p.sharedShm).toEqual({ mountNamespace: '/proc/43/ns/mnt' });
    expect(p.dev.mounts.map((m) => m.name)).toEqual(['pts', 'mqueue']);
  });

  it('refuses what Docker refuses, with its messages', () => {
    for (const [hostConfig, message] of [
      [{ PidMode: 'bogus' }, 'invalid PID mode: bogus'],
      [{ PidMode: 'container:' }, 'invalid PID mode: container:'],
      [{ IpcMode: 'bogus' }, 'invalid IPC mode: bogus'],
      [{ UTSMode: 'container:web' }, 'invalid UTS mode: container:web'],
      [{ PidMode: 'container:web' }, 'cannot join PID of a non running container: web'],
      [{ IpcMode: 'container:web' }, "can't join IPC of container web: it is not running"],
    ] as const) {
      expect(planError(() => planLaunch(input({ hostConfig }))).message).toBe(message);
    }
  });
});

describe('validateNamespaceModes (create time)', () => {
  it('names the containers whose namespaces a start will join, and refuses bad modes as planLaunch does', () => {
    expect(validateNamespaceModes({})).toEqual({});
    expect(validateNamespaceModes({ PidMode: 'container:a', IpcMode: 'container:b', UTSMode: 'host' })).toEqual({ pid: 'a', ipc: 'b' });
    expect(() => validateNamespaceModes({ IpcMode: 'sharable' })).toThrow('invalid IPC mode: sharable');
    expect(() => validateNamespaceModes({ PidMode: 'container:' })).toThrow('invalid PID mode: container:');
  });
});
