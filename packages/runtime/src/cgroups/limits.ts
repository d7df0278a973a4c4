import { deviceRuleLine, type DeviceRule } from '../plan/devices.js';

/**
 * Resource limits as Docker takes them (`--memory`, `--memory-swap`,
 * `--pids-limit`, `--cpu-quota`, `--cpu-period`, `--cpu-shares`), and the
 * pure translation into the files each cgroup version wants. Data only: the
 * writes are applied by `Cgroups`.
 */
export interface CgroupLimits {
  /** Memory limit in bytes (`--memory`). */
  memoryBytes?: number;
  /** Memory plus swap in bytes, Docker's `--memory-swap`; -1 means unlimited swap. */
  memorySwapBytes?: number;
  /** Soft memory limit in bytes (`--memory-reservation`). */
  memoryReservationBytes?: number;
  /** Maximum number of tasks (`--pids-limit`); 0 or less means unlimited. */
  pidsMax?: number;
  /** CFS quota per period in microseconds (`--cpu-quota`); -1 means unlimited. */
  cpuQuotaUs?: number;
  /** CFS period in microseconds (`--cpu-period`, default 100000). */
  cpuPeriodUs?: number;
  /** Relative CPU weight, v1 shares (`--cpu-shares`, 2..262144; Docker's default 1024). */
  cpuShares?: number;
  /** CPUs the container may run on (`--cpuset-cpus`, "0-2,4"). */
  cpusetCpus?: string;
  /** Memory nodes it may use (`--cpuset-mems`). */
  cpusetMems?: string;
}

export type CgroupController = 'memory' | 'pids' | 'cpu' | 'devices' | 'cpuset';

/** One write into a cgroup file. `optional` files are skipped when the kernel lacks them. */
export interface CgroupWrite {
  controller: CgroupController;
  file: string;
  value: string;
  optional?: boolean;
}

const DEFAULT_PERIOD_US = 100_000;

/**
 * The v1 `devices` writes for a rule list, in order: each rule goes to
 * `devices.allow` or `devices.deny`. A leading deny-all (`a`) empties the
 * inherited list first, as runc does.
 */
export function v1DeviceWrites(rules: readonly DeviceRule[]): CgroupWrite[] {
  return rules.map((r) => ({ controller: 'devices', file: r.allow ? 'devices.allow' : 'devices.deny', value: deviceRuleLine(r) }));
}

/** runc's conversion of v1 shares (2..262144) to a v2 weight (1..10000). */
export function sharesToWeight(shares: number): number {
  if (shares <= 0) return 100;
  return 1 + Math.floor(((Math.min(Math.max(shares, 2), 262_144) - 2) * 9999) / 262_142);
}

function int(name: string, value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`invalid ${name}: ${value} is not an integer`);
  return String(value);
}

/** The writes for cgroup v1, in the order the kernel accepts them. */
export function v1Writes(limits: CgroupLimits): CgroupWrite[] {
  const writes: CgroupWrite[] = [];
  if (limits.memoryBytes !== undefined) {
    writes.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: int('memory', limits.memoryBytes) });
  }
  if (limits.memorySwapBytes !== undefined) {
    // memsw exists only with swap accounting; it must be >= the memory limit, so it goes second.
    writes.push({
      controller: 'memory',
      file: 'memory.memsw.limit_in_bytes',
      value: int('memory-swap', limits.memorySwapBytes),
      optional: true,
    });
  }
  if (limits.memoryReservationBytes !== undefined) {
    writes.push({ controller: 'memory', file: 'memory.soft_limit_in_bytes', value: int('memory-reservation', limits.memoryReservationBytes) });
  }
  if (limits.pidsMax !== undefined) {
    writes.push({ controller: 'pids', file: 'pids.max', value: limits.pidsMax > 0 ? int('pids', limits.pidsMax) : 'max' });
  }
  if (limits.cpuPeriodUs !== undefined) {
    writes.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: int('cpu-period', limits.cpuPeriodUs) });
  }
  if (limits.cpuQuotaUs !== undefined) {
    writes.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: int('cpu-quota', limits.cpuQuotaUs) });
  }
  if (limits.cpuShares !== undefined) {
    writes.push({ controller: 'cpu', file: 'cpu.shares', value: int('cpu-shares', limits.cpuShares) });
  }
  writes.push(...cpusetWrites(limits));
  return writes;
}

/** The writes for cgroup v2 (Docker's values converted the way runc does). */
export function v2Writes(limits: CgroupLimits): CgroupWrite[] {
  const writes: CgroupWrite[] = [];
  if (limits.memoryBytes !== undefined) {
    writes.push({ controller: 'memory', file: 'memory.max', value: int('memory', limits.memoryBytes) });
  }
  if (limits.memorySwapBytes !== undefined) {
    // Docker's value is memory+swap; v2's swap.max is the swap alone.
    const swap =
      limits.memorySwapBytes < 0 ? 'max' : int('memory-swap', Math.max(0, limits.memorySwapBytes - (limits.memoryBytes ?? 0)));
    writes.push({ controller: 'memory', file: 'memory.swap.max', value: swap, optional: true });
  }
  if (limits.memoryReservationBytes !== undefined) {
    writes.push({ controller: 'memory', file: 'memory.low', value: int('memory-reservation', limits.memoryReservationBytes) });
  }
  if (limits.pidsMax !== undefined) {
    writes.push({ controller: 'pids', file: 'pids.max', value: limits.pidsMax > 0 ? int('pids', limits.pidsMax) : 'max' });
  }
  if (limits.cpuQuotaUs !== undefined || limits.cpuPeriodUs !== undefined) {
    const quota = limits.cpuQuotaUs === undefined || limits.cpuQuotaUs < 0 ? 'max' : int('cpu-quota', limits.cpuQuotaUs);
    writes.push({ controller: 'cpu', file: 'cpu.max', value: `${quota} ${int('cpu-period', limits.cpuPeriodUs ?? DEFAULT_PERIOD_US)}` });
  }
  if (limits.cpuShares !== undefined) {
    writes.push({ controller: 'cpu', file: 'cpu.weight', value: String(sharesToWeight(limits.cpuShares)) });
  }
  writes.push(...cpusetWrites(limits));
  return writes;
}

/** The same file names on v1 and v2. */
function cpusetWrites(limits: CgroupLimits): CgroupWrite[] {
  const writes: CgroupWrite[] = [];
  if (limits.cpusetCpus !== undefined) writes.push({ controller: 'cpuset', file: 'cpuset.cpus', value: limits.cpusetCpus });
  if (limits.cpusetMems !== undefined) writes.push({ controller: 'cpuset', file: 'cpuset.mems', value: limits.cpusetMems });
  return writes;
}
