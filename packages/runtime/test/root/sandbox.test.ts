import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cgroups } from '@berth/runtime';
import { type BodyFields, type RunResult, type TestEnv, berthCgroups, describeRoot, hostMountTable, openTestEnv, parkedSandboxes } from '@berth/testing';

/**
 * What a container sees of itself, one fact per line: everything a sandbox
 * builds ahead (the stub's /proc, masks and read-only paths, the device
 * cgroup, seccomp) and everything a launch brings (volumes, binds, hostname,
 * env, cwd, the cgroup's name).
 */
const PROBE = [
  'echo "pid=$$"', 'echo "host=$(hostname)"', 'echo "cwd=$(pwd)"', 'echo "a=$A"',
  'echo "bind=$(cat /h/in)"', 'echo written > /v/out', 'echo "vol=$(cat /v/out)"',
  'echo "cgroup=$(grep -o "berth/[0-9a-f]*" /proc/self/cgroup | sort -u)"',
  'echo "seccomp=$(grep Seccomp: /proc/self/status | tr -d "\\t ")"',
  'echo "masked=$(wc -c < /proc/timer_list)"',
  'echo x 2>/dev/null > /proc/sys/kernel/domainname || echo "procsys=ro"',
  'mknod /tmp/sda b 8 0 2>/dev/null && (head -c1 /tmp/sda >/dev/null 2>&1 || echo "blockdev=denied")',
  'echo "caps=$(grep CapEff /proc/self/status | tr -d "\\t ")"',
].join('; ');

describeRoot('sandboxes built ahead: a launch into a parked sandbox is the launch built inline', () => {
  let sandboxed: TestEnv;
  let inline: TestEnv;
  let host: string;
  let before: string;
  let cgroupsBefore: string[];

  beforeAll(async () => {
    before = hostMountTable();
    cgroupsBefore = berthCgroups();
    sandboxed = await openTestEnv({ workers: 1, sandboxes: 1 });
    inline = await openTestEnv({ workers: 1, sandboxes: 0 });
    host = mkdtempSync(join(tmpdir(), 'berth-sandbox-'));
    writeFileSync(join(host, 'in'), 'from the host');
  });
  afterAll(async () => {
    await sandboxed?.close();
    await inline?.close();
    rmSync(host, { recursive: true, force: true });
    expect(hostMountTable()).toBe(before);
    // Nothing parked outlives the runtime: no shim, no cgroup.
    expect(parkedSandboxes(sandboxed.root)).toEqual([]);
    const cgroupDirs = Cgroups.detect().berthDirs.flatMap((d) => { try { return readdirSync(d); } catch { return []; } });
    expect(cgroupDirs.filter((n) => n.startsWith('sandbox-'))).toEqual([]);
    // Nor any container's (a failed launch's included).
    expect(berthCgroups().filter((c) => !cgroupsBefore.includes(c))).toEqual([]);
  });

  /** Runs until a launch is served by a sandbox: the first of a key builds inline and teaches the worker that key. */
  async function runSandboxed(cmd: string[], hostConfig: BodyFields = {}, config: BodyFields = {}): Promise<RunResult> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const r = await sandboxed.run(cmd, hostConfig, config);
      if (r.started.sandboxed) return r;
      await sleep(40);
    }
    throw new Error('no launch was served by a sandbox');
  }

  function facts(r: RunResult): string {
    expect(r.status.exitCode).toBe(0);
    return r.output.replace(r.started.id, 'ID');
  }

  it('gives the command the same container as an inline launch, volumes, binds and all', async () => {
    const hostConfig = { Binds: ['probe-vol:/v', `${host}:/h:ro`] };
    const config = { Hostname: 'probe', Env: ['A=1'], WorkingDir: '/work' };
    const viaSandbox = await runSandboxed(['sh', '-c', PROBE], hostConfig, config);
    const built = await inline.run(['sh', '-c', PROBE], hostConfig, config);
    expect(built.started.sandboxed).toBe(false);
    const seen = facts(viaSandbox);
    expect(seen).toBe(facts(built));
    expect(seen).toContain('pid=1\nhost=probe\ncwd=/work\na=1\nbind=from the host\nvol=written\ncgroup=berth/ID\nseccomp=Seccomp:2\nmasked=0\nprocsys=ro\nblockdev=denied\ncaps=CapEff:00000000a80425fb\n');
    expect(readFileSync(join(sandboxed.root, 'volumes', 'probe-vol', '_data', 'out'), 'utf8')).toBe('written\n');
  });

  it('runs as the launch\'s user with its groups and capabilities, and its root read-only when asked', async () => {
    const r = await runSandboxed(['sh', '-c', 'id; grep CapEff /proc/self/status; touch /x 2>&1 | grep -o "Read-only file system"'], { CapDrop: ['ALL'], ReadonlyRootfs: true, GroupAdd: ['10'] }, { User: '1000:1000' });
    expect(r.output).toBe('uid=1000 gid=1000 groups=10\nCapEff:\t0000000000000000\nRead-only file system\n');
  });

  it('gives a terminal (the launch\'s window size file and stdin) to a launch served by a sandbox', async () => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const { id, spec } = sandboxed.create(['sh', '-c', 'tty; stty size; read line; echo "got $line"'], {}, { Tty: true });
      const out = join(sandboxed.root, `${id}.out`);
      const sizeFile = join(sandboxed.root, `${id}.winsize`);
      writeFileSync(sizeFile, '33 101\n');
      const [stdinRead, stdinWrite] = sandboxed.syscalls.pipe2(0);
      const fds = { stdout: openSync(out, 'w'), size: openSync(sizeFile, 'r') };
      let started;
      try {
        started = await sandboxed.runtime.start({
          id, spec, stdio: { stdin: stdinRead, stdout: fds.stdout, stderr: fds.stdout, terminalSize: fds.size }, statusPath: join(sandboxed.root, `${id}.status`),
        });
      } finally {
        for (const fd of [stdinRead, fds.stdout, fds.size]) closeSync(fd);
      }
      writeFileSync(stdinWrite, 'hello\n');
      closeSync(stdinWrite);
      expect((await started.exited).exitCode).toBe(0);
      await sandboxed.runtime.cleanup(id, { removeAnonymousVolumes: true });
      if (!started.sandboxed) {
        await sleep(40);
        continue;
      }
      // The terminal echoes the input whenever it arrives; the command's own lines come in order.
      const output = readFileSync(out, 'utf8').replace('hello\r\n', '');
      expect(output).toBe('/dev/pts/0\r\n33 101\r\ngot hello\r\n');
      return;
    }
    throw new Error('no terminal launch was served by a sandbox');
  });

  it('builds inline what no sandbox was built for (here a /dev/shm size), and never gives it a sandbox of another size', async () => {
    await runSandboxed(['true']);
    const r = await sandboxed.run(['sh', '-c', 'df -k /dev/shm | tail -1'], { ShmSize: 1024 * 1024 });
    expect(r.started.sandboxed).toBe(false);
    expect(r.output).toMatch(/^tmpfs\s+1024\s.*\/dev\/shm/);
    // Its own key is learnt too: a later launch of that size gets a sandbox of that size.
    const again = await runSandboxed(['sh', '-c', 'df -k /dev/shm | tail -1'], { ShmSize: 1024 * 1024 });
    expect(again.output).toMatch(/^tmpfs\s+1024\s.*\/dev\/shm/);
  });

  it('a syscall failing at any step of a launch into a sandbox leaves no mount on the host, and the next launch works', async () => {
    let failed = 0;
    for (let failAt = 1; failAt < 60; failAt++) {
      let outcome: 'failed' | 'succeeded' | 'inline' = 'inline';
      for (let attempt = 0; attempt < 50 && outcome === 'inline'; attempt++) {
        // A sandbox for this key is parked again before each faulty launch.
        await runSandboxed(['true'], { Binds: ['fault-vol:/v'] });
        await sleep(100);
        const { id, spec } = sandboxed.create(['true'], { Binds: ['fault-vol:/v'] });
        try {
          const started = await sandboxed.runtime.start({ id, spec, stdio: { stdout: 2, stderr: 2 }, statusPath: join(sandboxed.root, `${id}.status`) }, {
            sandboxFault: { failAt, errno: 'EIO' },
          });
          await started.exited;
          outcome = started.sandboxed ? 'succeeded' : 'inline';
        } catch (error) {
          expect(String(error)).toMatch(/injected fault|EIO|retired/);
          outcome = 'failed';
        }
        await sandboxed.runtime.cleanup(id, { removeAnonymousVolumes: true });
        expect(hostMountTable()).toBe(before);
      }
      const next = await sandboxed.run(['sh', '-c', 'echo ok > /v/after; cat /v/after'], { Binds: ['fault-vol:/v'] });
      expect(next.output).toBe('ok\n');
      if (outcome === 'succeeded') break;
      expect(outcome).toBe('failed');
      failed++;
    }
    // Every call of the launch path failed once (renames, the mounts, the restores, the message), then it ran through.
    expect(failed).toBeGreaterThan(10);
    expect(sandboxed.volumes.usedBy('fault-vol')).toEqual([]);
  });

  it('starts a container whose layer was used before (a restart) inline, its files kept', async () => {
    await runSandboxed(['true']);
    const { id, spec } = sandboxed.create(['sh', '-c', 'cat /kept 2>/dev/null; echo second > /kept']);
    const out = join(sandboxed.root, `${id}.out`);
    const starts: boolean[] = [];
    for (let run = 0; run < 2; run++) {
      // Give the worker time to park a sandbox for this key before each start.
      await sleep(200);
      const fd = openSync(out, 'a');
      try {
        const started = await sandboxed.runtime.start({ id, spec, stdio: { stdout: fd, stderr: fd }, statusPath: join(sandboxed.root, `${id}.status`) });
        starts.push(started.sandboxed);
        expect((await started.exited).exitCode).toBe(0);
      } finally {
        closeSync(fd);
      }
    }
    await sandboxed.runtime.cleanup(id, { removeAnonymousVolumes: true });
    expect(starts).toEqual([true, false]);
    expect(readFileSync(out, 'utf8')).toBe('second\n');
  });

  it('does not launch into a parked sandbox whose stub was killed: that launch builds inline', async () => {
    await runSandboxed(['true']);
    // The parked stubs: the parked processes whose parent is a parked shim.
    const parentOf = (pid: number): number => { const stat = readFileSync(`/proc/${pid}/stat`, 'latin1'); return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]); };
    const parkedStubs = (): number[] => { const parked = parkedSandboxes(sandboxed.root); return parked.filter((p) => { try { return parked.includes(parentOf(p)); } catch { return false; } }); };
    let stubs: number[] = [];
    for (let i = 0; i < 100 && stubs.length === 0; i++) {
      await sleep(20);
      stubs = parkedStubs();
    }
    expect(stubs.length, 'a sandbox parked for the key').toBeGreaterThan(0);
    const shims = stubs.map(parentOf);
    for (const pid of stubs) process.kill(pid, 'SIGKILL');
    // Each shim notices and exits (the worker reaps it when it next looks at its pool).
    for (let i = 0; i < 100 && parkedSandboxes(sandboxed.root).some((p) => shims.includes(p)); i++) await sleep(20);
    const r = await sandboxed.run(['sh', '-c', 'echo after']);
    expect(r.status.exitCode, r.output).toBe(0);
    expect(r.output).toBe('after\n');
  });
});
