import { cpus } from 'node:os';
import { resourceLimits, UnsupportedFieldError, type CgroupLimits, type HostConfig } from '@berth/runtime';
import type { ContainerRecord } from './container-store.js';
import type { ContainerEngine } from './engine.js';
import { ConflictError, InvalidParameterError, NotImplementedError } from './errors.js';
import type { Lifecycle } from './lifecycle.js';
import { parseRestartPolicy } from './restart-policy.js';

/*
 * `docker update` (`POST /containers/{id}/update`): Docker's UpdateConfig
 * (its Resources and a RestartPolicy) merged into the container's stored
 * HostConfig as moby's UpdateContainer merges it (a zero value keeps what
 * is there), checked with the launch's own `resourceLimits`, written live
 * into the cgroup of a running container, then stored: inspect, the next
 * start and the restart policy read the one record.
 */

type Kind = 'integer' | 'string' | 'array' | 'boolean' | 'object';

/** The update fields berth applies. */
const HONOURED: Record<string, Kind> = {
  Memory: 'integer', MemorySwap: 'integer', MemoryReservation: 'integer', CpuShares: 'integer', CpuPeriod: 'integer',
  CpuQuota: 'integer', NanoCpus: 'integer', PidsLimit: 'integer', RestartPolicy: 'object', CpusetCpus: 'string', CpusetMems: 'string',
};

/** Docker's other update fields: refused by name unless they hold their zero value (the CLI sends them all). */
const NOT_IMPLEMENTED: Record<string, Kind> = {
  CgroupParent: 'string', BlkioWeight: 'integer', BlkioWeightDevice: 'array', BlkioDeviceReadBps: 'array',
  BlkioDeviceWriteBps: 'array', BlkioDeviceReadIOps: 'array', BlkioDeviceWriteIOps: 'array', CpuRealtimePeriod: 'integer',
  CpuRealtimeRuntime: 'integer', Devices: 'array', DeviceCgroupRules: 'array',
  DeviceRequests: 'array', KernelMemory: 'integer', KernelMemoryTCP: 'integer', MemorySwappiness: 'integer',
  OomKillDisable: 'boolean', Ulimits: 'array', CpuCount: 'integer', CpuPercent: 'integer', IOMaximumIOps: 'integer',
  IOMaximumBandwidth: 'integer', Init: 'boolean',
};

function kindOk(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'integer': return typeof value === 'number' && Number.isSafeInteger(value);
    case 'string': return typeof value === 'string';
    case 'array': return Array.isArray(value);
    case 'boolean': return typeof value === 'boolean';
    case 'object': return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

function isZero(value: unknown): boolean {
  return value === null || value === undefined || value === 0 || value === '' || value === false ||
    (Array.isArray(value) && value.length === 0) || (key0(value) && Object.keys(value as object).length === 0);
}
const key0 = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The update body, checked: every known field of the right type, the unimplemented ones at zero. */
export function parseUpdateBody(body: unknown): Record<string, unknown> {
  if (!key0(body)) throw new InvalidParameterError('invalid JSON in request body: the update config must be an object');
  const b = body as Record<string, unknown>;
  for (const [key, kind] of Object.entries({ ...HONOURED, ...NOT_IMPLEMENTED })) {
    const value = b[key];
    if (value === undefined || value === null) continue;
    if (!kindOk(value, kind)) throw new InvalidParameterError(`invalid JSON in request body: ${key} must be ${kind === 'integer' ? 'an integer' : `a ${kind}`}, got ${JSON.stringify(value)}`);
    // -1 is the CLI's "unset" swappiness in older versions, as at create.
    if (key in NOT_IMPLEMENTED && !isZero(value) && !(key === 'MemorySwappiness' && value === -1)) throw new UnsupportedFieldError(key, value);
  }
  return b;
}

const conflict = (id: string, message: string): ConflictError => new ConflictError(`Cannot update container ${id}: ${message}`);

/**
 * The stored HostConfig with the update merged in (moby's UpdateContainer),
 * and the cgroup limits the running container must take now (only what the
 * update touches).
 */
export function mergeUpdate(rec: ContainerRecord, u: Record<string, unknown>, hostCpus = cpus().length): { hostConfig: HostConfig; live: CgroupLimits } {
  const cur = rec.hostConfig;
  const n = (key: string): number => (typeof u[key] === 'number' ? u[key] : 0);
  if (n('NanoCpus') > 0 && cur.CpuPeriod > 0) throw conflict(rec.id, 'Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (n('NanoCpus') > 0 && cur.CpuQuota > 0) throw conflict(rec.id, 'Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (n('CpuPeriod') > 0 && cur.NanoCpus > 0) throw conflict(rec.id, 'Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (n('CpuQuota') > 0 && cur.NanoCpus > 0) throw conflict(rec.id, 'Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  const next: HostConfig = { ...cur };
  // dockerd stores a memory limit's default swap (twice the memory) at create; the record keeps 0 for it.
  if (next.Memory > 0 && next.MemorySwap === 0) next.MemorySwap = next.Memory * 2;
  if (n('Memory') !== 0) {
    if (n('Memory') > next.MemorySwap && n('MemorySwap') === 0) {
      throw conflict(rec.id, 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    next.Memory = n('Memory');
  }
  if (n('MemorySwap') !== 0) next.MemorySwap = n('MemorySwap');
  if (n('MemoryReservation') !== 0) next.MemoryReservation = n('MemoryReservation');
  if (n('CpuShares') !== 0) next.CpuShares = n('CpuShares');
  if (n('NanoCpus') !== 0) next.NanoCpus = n('NanoCpus');
  if (n('CpuPeriod') !== 0) next.CpuPeriod = n('CpuPeriod');
  if (n('CpuQuota') !== 0) next.CpuQuota = n('CpuQuota');
  const text = (key: string): string => (typeof u[key] === 'string' ? u[key] : '');
  if (text('CpusetCpus') !== '') next.CpusetCpus = text('CpusetCpus');
  if (text('CpusetMems') !== '') next.CpusetMems = text('CpusetMems');
  const pids = u['PidsLimit'];
  if (typeof pids === 'number') next.PidsLimit = pids > 0 ? pids : null;
  const policy = u['RestartPolicy'] as { Name?: unknown } | undefined;
  if (policy && policy.Name !== '' && policy.Name !== undefined) {
    const parsed = parseRestartPolicy(policy);
    if (cur.AutoRemove && parsed.name !== 'no') throw conflict(rec.id, 'Restart policy cannot be updated because AutoRemove is enabled for the container');
    next.RestartPolicy = { Name: parsed.name, MaximumRetryCount: parsed.maximumRetryCount };
  }
  // The launch's own checks and translation, on the merged record (Docker's verifyContainerResources).
  const all = resourceLimits(next, hostCpus);
  const live: CgroupLimits = {};
  if (n('Memory') !== 0 || n('MemorySwap') !== 0) {
    if (all.memoryBytes !== undefined) live.memoryBytes = all.memoryBytes;
    if (all.memorySwapBytes !== undefined) live.memorySwapBytes = all.memorySwapBytes;
  }
  if (all.memoryReservationBytes !== undefined && n('MemoryReservation') !== 0) live.memoryReservationBytes = all.memoryReservationBytes;
  if (typeof pids === 'number') live.pidsMax = all.pidsMax ?? 0;
  if (all.cpuShares !== undefined && n('CpuShares') !== 0) live.cpuShares = all.cpuShares;
  if (n('CpuPeriod') !== 0 || n('NanoCpus') !== 0) {
    if (all.cpuPeriodUs !== undefined) live.cpuPeriodUs = all.cpuPeriodUs;
  }
  if (n('CpuQuota') !== 0 || n('NanoCpus') !== 0) live.cpuQuotaUs = all.cpuQuotaUs ?? -1;
  if (all.cpusetCpus !== undefined && text('CpusetCpus') !== '') live.cpusetCpus = all.cpusetCpus;
  if (all.cpusetMems !== undefined && text('CpusetMems') !== '') live.cpusetMems = all.cpusetMems;
  return { hostConfig: next, live };
}

/** `docker update`: Docker's answer is `{"Warnings": null}`. */
export function updateContainer(lc: Lifecycle, engine: ContainerEngine | undefined, ref: string, body: unknown): { Warnings: string[] | null } {
  const rec = lc.store.resolve(ref);
  const { hostConfig, live } = mergeUpdate(rec, parseUpdateBody(body));
  if (lc.isRunning(rec.id) && Object.keys(live).length > 0) {
    if (!engine?.updateLimits) throw new NotImplementedError('this engine cannot update the limits of a running container');
    engine.updateLimits(rec.id, live);
  }
  const updated = lc.store.update(rec.id, { hostConfig });
  lc.publish('update', updated);
  return { Warnings: null };
}
