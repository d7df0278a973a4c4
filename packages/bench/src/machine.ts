/** Facts about the machine a run happened on. */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { PEER_NAMES, peerVersion } from './peers.js';
import type { MachineFacts } from './report-types.js';

function cgroupLayout(): string {
  try {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    const v1 = / - cgroup cgroup /.test(mounts);
    const v2 = / - cgroup2 /.test(mounts);
    return v1 && v2 ? 'cgroup v1 hybrid' : v2 ? 'cgroup v2' : v1 ? 'cgroup v1' : 'no cgroups';
  } catch {
    return 'unknown cgroups';
  }
}

export function machineFacts(): MachineFacts {
  return {
    kernel: release(),
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    loadAverageStart: loadavg(),
    loadAverageEnd: [],
    cgroup: cgroupLayout(),
    peers: Object.fromEntries(PEER_NAMES.map((p) => [p, peerVersion(p)])),
  };
}
