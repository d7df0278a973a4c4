import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { expect, it } from 'vitest';
import { Cgroups, defaultDeviceRules, parseDeviceCgroupRule } from '@berth/runtime';
import { cgroupDir, cgroupMounts, parseProcCgroup } from '../../src/cgroups/index.js';
import { describeRoot } from '@berth/testing';

// The cgroup v2 device controller is an eBPF program. This machine's
// controllers are on v1, but its cgroup2 hierarchy (hybrid) still runs
// device programs attached there, so the v2 path is tested for real.
const mounts = cgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
const own = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8')).get('') ?? '/';

describeRoot('the cgroup v2 device program on the real kernel', () => {
  it.skipIf(!mounts.v2)('lets a process in the container cgroup open only what the rules allow', async () => {
    const berthDir = posix.join(cgroupDir(mounts.v2!.mountPoint, mounts.v2!.mountRoot, own), 'berth');
    const cg = new Cgroups(2, [{ berthDir, controllers: [] }]);
    const probe = async (rules: ReturnType<typeof defaultDeviceRules>) => {
      const handle = cg.create(`devprog-${process.pid}`, {}, rules);
      const child = spawn('sh', ['-c', 'read go; for d in /dev/null /dev/loop-control; do (true < $d) 2>/dev/null && echo "$d opened" || echo "$d refused"; done'], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      try {
        cg.place(handle, child.pid ?? 0);
        child.stdin.end('\n');
        await new Promise((resolve) => child.once('exit', resolve));
      } finally {
        child.kill('SIGKILL');
        for (let i = 0; i < 100 && readFileSync(posix.join(handle.paths[0]!, 'cgroup.procs'), 'utf8').trim() !== ''; i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
        cg.remove(handle);
      }
      expect(handle.paths.filter((p) => existsSync(p))).toEqual([]);
      return out;
    };
    expect(await probe(defaultDeviceRules())).toBe('/dev/null opened\n/dev/loop-control refused\n');
    expect(await probe([...defaultDeviceRules(), parseDeviceCgroupRule('c 10:237 r')])).toBe('/dev/null opened\n/dev/loop-control opened\n');
    cg.cleanup();
  });
});
