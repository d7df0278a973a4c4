import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { readOptional, writeCgroupFile, type Cgroups } from './cgroups.js';
import { CgroupError } from './errors.js';
import { v1Writes, v2Writes, type CgroupLimits, type CgroupWrite } from './limits.js';

/**
 * `docker update` on a running container: the new limits written into its
 * existing cgroup. On v1 the memory limit must stay at or below
 * memory+swap, so when the memory limit grows the memsw file is written
 * first (runc's order), else second.
 */
export function updateLimits(cgroups: Cgroups, containerId: string, limits: CgroupLimits): void {
  let writes: CgroupWrite[] = cgroups.version === 1 ? v1Writes(limits) : v2Writes(limits);
  if (cgroups.version === 1 && limits.memoryBytes !== undefined && limits.memorySwapBytes !== undefined) {
    const dir = cgroups.controllerDir(containerId, 'memory');
    const current = Number((readOptional(posix.join(dir ?? '', 'memory.limit_in_bytes')) ?? '0').trim());
    if (limits.memoryBytes > current) {
      const swap = writes.filter((w) => w.file === 'memory.memsw.limit_in_bytes');
      writes = [...swap, ...writes.filter((w) => w.file !== 'memory.memsw.limit_in_bytes')];
    }
  }
  // Checked before any write, so a refused update changes nothing.
  const cpusetDir = cgroups.controllerDir(containerId, 'cpuset');
  if (cgroups.version === 1 && writes.some((w) => w.controller === 'cpuset') && (cpusetDir === undefined || !existsSync(cpusetDir))) {
    throw new CgroupError('CGROUP_NO_CPUSET',
      'failed to update cpuset: the container was started without --cpuset-cpus/--cpuset-mems and has no cpuset cgroup; ' +
      'stop it, update it, and start it again');
  }
  for (const w of writes) {
    const dir = cgroups.controllerDir(containerId, w.controller);
    if (dir === undefined) {
      throw new CgroupError('CGROUP_CONTROLLER_UNAVAILABLE', `failed to update a ${w.controller} limit: no cgroup hierarchy has the ${w.controller} controller`);
    }
    const file = posix.join(dir, w.file);
    if (w.optional && !existsSync(file)) continue;
    writeCgroupFile(file, w.value);
  }
}
