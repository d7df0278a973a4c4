import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CgroupError, Cgroups, cgroupMounts, parseProcCgroup, readRecordedV1Parents, recordV1Parents, sharesToWeight, v2Writes } from '../../src/cgroups/index.js';

// A fake /proc and /sys in a temp dir: mountinfo and /proc/self/cgroup as on
// a real machine, cgroup directories as plain directories with plain files.

const HYBRID_MOUNTINFO = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const HYBRID_CGROUP = '9:name=systemd:/sup\n8:pids:/sup\n4:memory:/sup/mem\n1:cpu,cpuacct:/sup\n0::/sup\n';
const V2_MOUNTINFO = '30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n';

let root = '';
const sys = (...p: string[]): string => join(root, 'sys', 'fs', 'cgroup', ...p);

function fakeTree(mountinfo: string, cgroup: string, dirs: string[]): Cgroups {
  mkdirSync(join(root, 'proc', 'self'), { recursive: true });
  writeFileSync(join(root, 'proc', 'self', 'mountinfo'), mountinfo);
  writeFileSync(join(root, 'proc', 'self', 'cgroup'), cgroup);
  for (const d of dirs) mkdirSync(sys(d), { recursive: true });
  return Cgroups.detect({ procRoot: join(root, 'proc'), sysfsRoot: join(root, 'sys') });
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'berth-cgroups-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('cgroup layout parsing', () => {
  it('reads v1 hierarchies with co-mounted controllers, and the v2 mount', () => {
    const mounts = cgroupMounts(HYBRID_MOUNTINFO);
    expect(mounts.v1.map((h) => h.controllers)).toEqual([['cpu', 'cpuacct'], ['memory'], ['pids']]);
    expect(mounts.v2?.mountPoint).toBe('/sys/fs/cgroup/unified');
    const own = parseProcCgroup(HYBRID_CGROUP);
    expect(own.get('memory')).toBe('/sup/mem');
    expect(own.get('cpuacct')).toBe('/sup');
    expect(own.get('')).toBe('/sup');
  });
});

describe('Cgroups on v1 / hybrid', () => {
  it("places the container under the supervisor's own cgroup in each hierarchy and writes the limits", () => {
    const cg = fakeTree(HYBRID_MOUNTINFO, HYBRID_CGROUP, ['cpu,cpuacct/sup', 'memory/sup/mem', 'pids/sup']);
    expect(cg.version).toBe(1);
    const handle = cg.create('c1', { memoryBytes: 32 << 20, memorySwapBytes: 32 << 20, pidsMax: 20, cpuQuotaUs: 50_000, cpuPeriodUs: 100_000, cpuShares: 512 });
    expect(handle.paths).toEqual([sys('cpu,cpuacct/sup/berth/c1'), sys('memory/sup/mem/berth/c1'), sys('pids/sup/berth/c1')]);
    expect(readFileSync(sys('memory/sup/mem/berth/c1/memory.limit_in_bytes'), 'utf8')).toBe(String(32 << 20));
    // memsw is absent without swap accounting: skipped, not created.
    expect(existsSync(sys('memory/sup/mem/berth/c1/memory.memsw.limit_in_bytes'))).toBe(false);
    expect(readFileSync(sys('pids/sup/berth/c1/pids.max'), 'utf8')).toBe('20');
    expect(readFileSync(sys('cpu,cpuacct/sup/berth/c1/cpu.cfs_quota_us'), 'utf8')).toBe('50000');
    expect(readFileSync(sys('cpu,cpuacct/sup/berth/c1/cpu.shares'), 'utf8')).toBe('512');
    expect(existsSync(sys('pids/sup/berth/c1/cpu.shares'))).toBe(false);

    cg.place(handle, 1234);
    expect(readFileSync(sys('pids/sup/berth/c1/cgroup.procs'), 'utf8')).toBe('1234');

    writeFileSync(sys('memory/sup/mem/berth/c1/memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    expect(cg.oomKilled(handle)).toBe(true);
  });

  it('honours a configured parent', () => {
    mkdirSync(join(root, 'proc', 'self'), { recursive: true });
    writeFileSync(join(root, 'proc', 'self', 'mountinfo'), HYBRID_MOUNTINFO);
    writeFileSync(join(root, 'proc', 'self', 'cgroup'), HYBRID_CGROUP);
    const cg = Cgroups.detect({ procRoot: join(root, 'proc'), sysfsRoot: join(root, 'sys'), parent: '/custom' });
    expect(cg.berthDirs).toEqual([sys('cpu,cpuacct/custom/berth'), sys('memory/custom/berth'), sys('pids/custom/berth')]);
  });

  it('keeps the parents a supervisor of the same root recorded, where they still exist, and records its own', () => {
    // The last supervisor ran in /old (memory) and /sup; this one runs in /sup and /sup/mem.
    mkdirSync(sys('memory/old'), { recursive: true });
    const record = join(root, 'cgroup-parents.json');
    recordV1Parents(record, { 'cpu,cpuacct': '/gone', memory: '/old', pids: '/../../escape' }, undefined);
    const recorded = readRecordedV1Parents(record);
    expect(recorded).toEqual({ 'cpu,cpuacct': '/gone', memory: '/old', pids: '/../../escape' });
    const cg = fakeTree(HYBRID_MOUNTINFO, HYBRID_CGROUP, ['cpu,cpuacct/sup', 'memory/sup/mem', 'pids/sup']);
    const reopened = Cgroups.detect({ procRoot: join(root, 'proc'), sysfsRoot: join(root, 'sys'), recordedV1Parents: recorded! });
    // memory: the recorded one (it exists); cpu: its own (the recorded one is gone); pids: never a path out of the hierarchy.
    expect(reopened.berthDirs).toEqual([sys('cpu,cpuacct/sup/berth'), sys('memory/old/berth'), sys('pids/sup/berth')]);
    expect(reopened.v1Parents).toEqual({ 'cpu,cpuacct': '/sup', memory: '/old', pids: '/sup' });
    expect(cg.v1Parents).toEqual({ 'cpu,cpuacct': '/sup', memory: '/sup/mem', pids: '/sup' });
    recordV1Parents(record, reopened.v1Parents, recorded);
    expect(readRecordedV1Parents(record)).toEqual(reopened.v1Parents);
    expect(readdirSync(root).filter((n) => n.includes('.tmp-'))).toEqual([]);
    // A configured parent wins over any record; an unreadable record counts as none.
    const configured = Cgroups.detect({ procRoot: join(root, 'proc'), sysfsRoot: join(root, 'sys'), parent: '/custom', recordedV1Parents: recorded! });
    expect(configured.berthDirs).toEqual([sys('cpu,cpuacct/custom/berth'), sys('memory/custom/berth'), sys('pids/custom/berth')]);
    writeFileSync(record, '{not json');
    expect(readRecordedV1Parents(record)).toBeUndefined();
  });

  it('removes only what it created, and refuses paths outside its berth/ dirs', () => {
    const cg = fakeTree(HYBRID_MOUNTINFO, HYBRID_CGROUP, ['cpu,cpuacct/sup', 'memory/sup/mem', 'pids/sup', 'pids/sup/berth']);
    const handle = cg.create('c1', { pidsMax: 5 });
    // Fake cgroup dirs hold plain files; the kernel's do not block rmdir.
    for (const p of handle.paths) for (const f of readdirSync(p)) rmSync(join(p, f));
    cg.remove(handle);
    expect(handle.paths.some((p) => existsSync(p))).toBe(false);
    expect(cg.cleanup().sort()).toEqual([sys('cpu,cpuacct/sup/berth'), sys('memory/sup/mem/berth')]);
    expect(existsSync(sys('pids/sup/berth'))).toBe(true); // existed before: not ours to remove
    expect(existsSync(sys('pids/sup'))).toBe(true);

    expect(() => cg.fromPaths([sys('pids/sup')])).toThrow(CgroupError);
    expect(() => cg.remove({ containerId: 'sup', version: 1, paths: [sys('pids/sup')] })).toThrow(/not a container cgroup/);
    expect(cg.fromPaths([sys('pids/sup/berth/c2')]).containerId).toBe('c2');
    expect(cg.pathsFor('c2')).toContain(sys('pids/sup/berth/c2'));
    expect(() => cg.fromPaths([sys('pids/sup/berth/c2'), sys('memory/sup/mem/berth/c3')])).toThrow(/one container id/);
    cg.remove(cg.fromPaths([])); // a container that never got a cgroup: nothing to do
  });

  it('rolls back a half-made cgroup and rejects bad ids', () => {
    const cg = fakeTree(HYBRID_MOUNTINFO, HYBRID_CGROUP, ['cpu,cpuacct/sup', 'memory/sup/mem', 'pids/sup']);
    mkdirSync(sys('pids/sup/berth/c1'), { recursive: true }); // left over, with a process still in it: create must fail
    writeFileSync(sys('pids/sup/berth/c1/cgroup.procs'), '4242\n');
    expect(() => cg.create('c1', {})).toThrow(/processes of a previous container with this id still run in it/);
    expect(existsSync(sys('memory/sup/mem/berth/c1'))).toBe(false);
    // Empty (the previous run's, not yet removed after its exit): taken over.
    writeFileSync(sys('pids/sup/berth/c1/cgroup.procs'), '');
    expect(cg.create('c1', { pidsMax: 5 }).paths).toContain(sys('pids/sup/berth/c1'));
    expect(readFileSync(sys('pids/sup/berth/c1/pids.max'), 'utf8')).toBe('5');
    expect(() => cg.create('../escape', {})).toThrow(/invalid container id/);
  });
});

describe('Cgroups on v2', () => {
  it('creates berth/ under the root, enables controllers only there, and writes v2 files', () => {
    const cg = fakeTree(V2_MOUNTINFO, '0::/user.slice/session\n', ['']);
    writeFileSync(sys('cgroup.subtree_control'), 'cpu memory pids');
    mkdirSync(sys('berth'));
    writeFileSync(sys('berth', 'cgroup.controllers'), 'cpu io memory pids');
    writeFileSync(sys('berth', 'cgroup.subtree_control'), '');
    expect(cg.version).toBe(2);
    const handle = cg.create('c1', { memoryBytes: 1 << 20, memorySwapBytes: 3 << 20, pidsMax: 20, cpuQuotaUs: 50_000, cpuShares: 1024 });
    expect(handle.paths).toEqual([sys('berth/c1')]);
    expect(readFileSync(sys('berth', 'cgroup.subtree_control'), 'utf8')).toBe('+cpu +memory +pids');
    expect(readFileSync(sys('cgroup.subtree_control'), 'utf8')).toBe('cpu memory pids'); // the root is untouched
    expect(readFileSync(sys('berth/c1/memory.max'), 'utf8')).toBe(String(1 << 20));
    expect(readFileSync(sys('berth/c1/cpu.max'), 'utf8')).toBe('50000 100000');
    expect(readFileSync(sys('berth/c1/pids.max'), 'utf8')).toBe('20');
    expect(readFileSync(sys('berth/c1/cpu.weight'), 'utf8')).toBe('39');
    writeFileSync(sys('berth/c1/memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n');
    expect(cg.oomKilled(handle)).toBe(false);
  });

  it('refuses a limit whose controller is not delegated, and leaves nothing behind', () => {
    const cg = fakeTree(V2_MOUNTINFO, '0::/\n', ['berth']);
    writeFileSync(sys('berth', 'cgroup.controllers'), 'cpu');
    expect(() => cg.create('c1', { memoryBytes: 1 << 20 })).toThrow(/memory controller is not delegated/);
    expect(existsSync(sys('berth/c1'))).toBe(false);
  });

  it('converts Docker values the way runc does', () => {
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(262_144)).toBe(10_000);
    expect(v2Writes({ memoryBytes: 100, memorySwapBytes: -1 }).map((w) => `${w.file}=${w.value}`)).toEqual(['memory.max=100', 'memory.swap.max=max']);
  });
});
