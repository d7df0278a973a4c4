import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { readOptional, type Cgroups } from './cgroups.js';
import { memTotalBytes, networkStats, systemCpu, v1Sample, v2Sample, type CgroupSample, type NetworkStats } from './stats.js';

/** One reading for `docker stats`: the cgroup's, the host CPU time beside it, the network namespace's. */
export interface ContainerSample extends CgroupSample {
  /** When it was read (RFC 3339). */
  read: string;
  networks?: Record<string, NetworkStats>;
}

let memTotal: number | undefined;

/** Reads the files of a container's cgroup (effects; the shaping is stats.ts, pure). */
export function containerSample(cgroups: Cgroups, containerId: string, netPid?: number, procRoot = '/proc'): ContainerSample {
  memTotal ??= memTotalBytes(readFileSync(posix.join(procRoot, 'meminfo'), 'utf8'));
  const read = (controller: string, file: string): string | undefined => {
    const dir = cgroups.controllerDir(containerId, controller);
    return dir === undefined ? undefined : readOptional(posix.join(dir, file));
  };
  const sample = cgroups.version === 1 ? v1Sample(read, { memTotalBytes: memTotal }) : v2Sample(read, { memTotalBytes: memTotal });
  const { systemCpuUsage, onlineCpus } = systemCpu(readFileSync(posix.join(procRoot, 'stat'), 'utf8'));
  sample.cpu_stats.system_cpu_usage = systemCpuUsage;
  sample.cpu_stats.online_cpus = onlineCpus;
  let networks: Record<string, NetworkStats> | undefined;
  if (netPid !== undefined) {
    const netDev = readOptional(posix.join(procRoot, String(netPid), 'net', 'dev'));
    if (netDev !== undefined) networks = networkStats(netDev);
  }
  return { read: new Date().toISOString(), ...sample, ...(networks && Object.keys(networks).length > 0 ? { networks } : {}) };
}
