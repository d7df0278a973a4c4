import type { ContainerSample } from '@berth/runtime';
import type { ContainerRecord } from './container-store.js';

/*
 * `docker stats` in the Engine API's StatsJSON shape: the runtime's cgroup
 * reading, the previous one as `precpu_stats`/`preread` (the CLI computes
 * CPU % from the difference), the name and id. A container that does not
 * run gets dockerd's empty stats (zeros, not an error).
 */

const ZERO_TIME = '0001-01-01T00:00:00Z';
const ZERO_CPU = {
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
};
const NULL_BLKIO = {
  io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
  io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
};

/** One StatsJSON frame; `pre` undefined for the first frame of a stream and for one-shot. */
export function statsJson(rec: ContainerRecord, sample: ContainerSample | undefined, pre: ContainerSample | undefined): Record<string, unknown> {
  if (!sample) {
    return {
      read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {}, blkio_stats: NULL_BLKIO, num_procs: 0, storage_stats: {},
      cpu_stats: ZERO_CPU, precpu_stats: ZERO_CPU, memory_stats: {}, name: `/${rec.name}`, id: rec.id,
    };
  }
  return {
    read: sample.read,
    preread: pre?.read ?? ZERO_TIME,
    pids_stats: sample.pids_stats,
    blkio_stats: sample.blkio_stats,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: sample.cpu_stats,
    precpu_stats: pre?.cpu_stats ?? ZERO_CPU,
    memory_stats: sample.memory_stats,
    name: `/${rec.name}`,
    id: rec.id,
    ...(sample.networks ? { networks: sample.networks } : {}),
  };
}
