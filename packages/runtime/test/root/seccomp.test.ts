// Docker's default seccomp profile, compiled by libseccomp into raw BPF and
// loaded by a probe process with seccomp(2): the calls the issue names get
// EPERM from the filter (not the kernel's own errno), clone3 gets ENOSYS so
// threads still start, and the capability-gated groups open with their
// capability. Filters are only ever loaded into throwaway child processes.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultCapabilities } from '../../src/plan/defaults.js';
import { SeccompCache, compileSeccompProfile, decodeSeccompProfile, defaultSeccompProfile } from '../../src/security/index.js';
import { describeRoot, isRoot } from '@berth/testing';

const here = dirname(fileURLToPath(import.meta.url));
const probeSource = join(here, '..', 'fixtures', 'seccomp-probe.c');
const DENIED = ['keyctl', 'add_key', 'unshare_newuser', 'bpf', 'perf_event_open', 'open_by_handle_at', 'clock_settime', 'io_uring_setup'];

let dir = '';
let probe = '';

/** Runs the probe in a child process, loading `bpf` first when given. */
function runProbe(bpf?: string, ...extra: string[]): Record<string, string> {
  const r = spawnSync(probe, [...(bpf === undefined ? [] : ['--load', bpf]), ...extra], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

describeRoot('seccomp: Docker\'s default profile through libseccomp', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-'));
    chmodSync(dir, 0o755); // the probe re-executes itself as nobody
    probe = join(dir, 'seccomp-probe');
    const cc = spawnSync('cc', ['-static', '-O2', '-pthread', '-o', probe, probeSource], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`failed to build the seccomp probe: ${cc.stderr}`);
  });
  afterAll(() => {
    if (isRoot && dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('the kernel itself answers the probe\'s calls with something other than EPERM (so EPERM below is the filter)', () => {
    const got = runProbe();
    expect(got['seccomp']).toBe('0');
    for (const call of DENIED) expect(got[call], call).not.toBe('EPERM');
    expect(got['clone3']).not.toBe('ENOSYS');
    expect(got['statmount']).not.toBe('ENOSYS');
  });

  it('denies them with EPERM in a default container, answers clone3 with ENOSYS, and threads still start', async () => {
    const cache = new SeccompCache(join(dir, 'root'));
    const path = await cache.pathFor({ kind: 'default' }, defaultCapabilities().names);
    expect(path).not.toBeNull();
    const got = runProbe(path!);
    expect(got['seccomp']).toBe('2');
    for (const call of DENIED) expect(got[call], call).toBe('EPERM');
    expect(got['mount']).toBe('EPERM');
    expect(got['clone3']).toBe('ENOSYS');
    expect(got['thread']).toBe('ok');
    // Newer than every call the profile names: ENOSYS, as runc answers, so a libc falls back.
    expect(got['statmount']).toBe('ENOSYS');
  });

  it('lets the stub finish after loading it without no_new_privs: groups, user, capset, prctl, close_range, execve', async () => {
    const path = await new SeccompCache(join(dir, 'root')).pathFor({ kind: 'default' }, defaultCapabilities().names);
    const got = runProbe(path!, '--stub-sequence');
    for (const call of ['setgroups', 'setresgid', 'setresuid', 'capset', 'prctl_no_new_privs', 'close_range']) expect(got[call], call).toBe('ok');
    // execve worked: the re-executed probe reports as nobody, still filtered.
    expect(got['uid']).toBe('65534');
    expect(got['seccomp']).toBe('2');
    expect(got['keyctl']).toBe('EPERM');
  });

  it('opens the groups a capability gates: CAP_SYS_ADMIN allows unshare and clone3, CAP_SYS_TIME and CAP_BPF theirs', async () => {
    const bpf = await compileSeccompProfile(defaultSeccompProfile(), [...defaultCapabilities().names, 'CAP_SYS_ADMIN', 'CAP_SYS_TIME', 'CAP_BPF', 'CAP_PERFMON', 'CAP_DAC_READ_SEARCH']);
    const file = join(dir, 'admin.bpf');
    writeFileSync(file, bpf);
    const got = runProbe(file);
    expect(got['unshare_newuser']).toBe('ok');
    expect(got['clone3']).not.toBe('ENOSYS');
    for (const call of ['bpf', 'clock_settime', 'perf_event_open', 'open_by_handle_at', 'mount']) expect(got[call], call).not.toBe('EPERM');
    // keyrings are not namespaced: no capability opens keyctl.
    expect(got['keyctl']).toBe('EPERM');
  });

  it('runs a custom profile as given', async () => {
    const text = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['bpf'], action: 'SCMP_ACT_ERRNO', errnoRet: 22 }, { names: ['keyctl'], action: 'SCMP_ACT_ERRNO' }] });
    const path = await new SeccompCache(join(dir, 'root')).pathFor({ kind: 'custom', profile: text }, []);
    const got = runProbe(path!);
    expect(got['keyctl']).toBe('EPERM');
    expect(got['add_key']).not.toBe('EPERM');
    expect(got['clone3']).not.toBe('ENOSYS');
    // errnoRet 22 is EINVAL: the profile's own errno, not the default EPERM.
    expect(got['bpf']).toBe('EINVAL');
    expect(decodeSeccompProfile(text).syscalls).toHaveLength(2);
  });

  it('compiles once per profile and relevant capability set, and reuses the file', async () => {
    const root = join(dir, 'cache-root');
    const cache = new SeccompCache(root);
    const a = await cache.pathFor({ kind: 'default' }, defaultCapabilities().names);
    const inode = statSync(a!).ino;
    // CAP_CHOWN and CAP_KILL appear in no rule: same filter, same file.
    const b = await new SeccompCache(root).pathFor({ kind: 'default' }, defaultCapabilities().names.filter((c) => c !== 'CAP_CHOWN'));
    expect(b).toBe(a);
    expect(statSync(b!).ino).toBe(inode);
    const c = await cache.pathFor({ kind: 'default' }, [...defaultCapabilities().names, 'CAP_SYS_ADMIN']);
    expect(c).not.toBe(a);
    expect(readFileSync(a!).length % 8).toBe(0);
    expect(await cache.pathFor({ kind: 'unconfined' }, [])).toBeNull();
    expect(statSync(join(root, 'seccomp')).mode & 0o777).toBe(0o700);
  });
});
