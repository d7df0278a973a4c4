import { posix } from 'node:path';
import { readOptional, writeCgroupFile, type Cgroups } from './cgroups.js';
import { CgroupError } from './errors.js';

/*
 * Pause and unpause: the v1 freezer (`freezer.state`) or v2's
 * `cgroup.freeze`. Freezing is asynchronous in the kernel (v1 passes through
 * FREEZING; v2 reports `frozen 1` in cgroup.events once every task stopped),
 * so both wait for the state, as runc does. A v1 freeze that does not settle
 * (a task in uninterruptible sleep) is retried, then undone and reported.
 */

const SETTLE_MS = 2000;

function freezerDir(cgroups: Cgroups, containerId: string): string {
  const dir = cgroups.controllerDir(containerId, 'freezer');
  if (dir === undefined) {
    throw new CgroupError('CGROUP_CONTROLLER_UNAVAILABLE', 'failed to pause: no cgroup v1 hierarchy has the freezer controller mounted');
  }
  return dir;
}

function frozenNow(version: 1 | 2, dir: string): boolean {
  if (version === 1) return (readOptional(posix.join(dir, 'freezer.state')) ?? '').trim() === 'FROZEN';
  return /^frozen 1$/m.test(readOptional(posix.join(dir, 'cgroup.events')) ?? '');
}

/** Whether the container's cgroup is frozen (paused). A container without one is not. */
export function isFrozen(cgroups: Cgroups, containerId: string): boolean {
  return frozenNow(cgroups.version, freezerDir(cgroups, containerId));
}

async function settle(version: 1 | 2, dir: string, frozen: boolean, rewrite: () => void): Promise<boolean> {
  const deadline = Date.now() + SETTLE_MS;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    if (frozenNow(version, dir) === frozen) return true;
    await new Promise((resolve) => setTimeout(resolve, attempt < 10 ? 1 : 10));
    if (attempt % 20 === 19) rewrite();
  }
  return frozenNow(version, dir) === frozen;
}

/** Stop every task of the container (`docker pause`); resolves once the kernel says frozen. */
export async function freeze(cgroups: Cgroups, containerId: string): Promise<void> {
  const dir = freezerDir(cgroups, containerId);
  const write = (): void => {
    if (cgroups.version === 1) writeCgroupFile(posix.join(dir, 'freezer.state'), 'FROZEN');
    else writeCgroupFile(posix.join(dir, 'cgroup.freeze'), '1');
  };
  write();
  if (await settle(cgroups.version, dir, true, write)) return;
  await thaw(cgroups, containerId);
  throw new CgroupError('CGROUP_FREEZE_FAILED', `failed to freeze cgroup ${dir}: it did not reach FROZEN within ${SETTLE_MS} ms (a task in uninterruptible sleep?)`, dir);
}

/** Let the container's tasks run again (`docker unpause`, and after a stop or kill signal). */
export async function thaw(cgroups: Cgroups, containerId: string): Promise<void> {
  const dir = freezerDir(cgroups, containerId);
  const write = (): void => {
    if (cgroups.version === 1) writeCgroupFile(posix.join(dir, 'freezer.state'), 'THAWED');
    else writeCgroupFile(posix.join(dir, 'cgroup.freeze'), '0');
  };
  write();
  if (!(await settle(cgroups.version, dir, false, write))) {
    throw new CgroupError('CGROUP_FREEZE_FAILED', `failed to thaw cgroup ${dir}: it is still frozen after ${SETTLE_MS} ms`, dir);
  }
}
