/**
 * `docker stats`' table, computed as the docker CLI computes it from the
 * Engine API's stats JSON: CPU % from the difference to `precpu_stats`
 * scaled by the online CPUs, memory usage less the inactive page cache
 * (`total_inactive_file` on v1, `inactive_file` on v2), binary sizes for
 * memory, decimal ones (3 digits) for network and block I/O.
 */
import { formatG, humanSize } from './size.js';

export interface StatsJson {
  id: string;
  name: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  pids_stats?: { current?: number };
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}

export const STATS_HEADER = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'];

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** go-units BytesSize: binary units, `%.4g`. */
export function bytesSize(bytes: number): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < BINARY_UNITS.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${formatG(size, 4)}${BINARY_UNITS[unit]}`;
}

export function cpuPercent(s: StatsJson): number {
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const online = s.cpu_stats?.online_cpus || s.cpu_stats?.cpu_usage?.percpu_usage?.length || 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

export function memoryUsage(s: StatsJson): number {
  const usage = s.memory_stats?.usage ?? 0;
  const stats = s.memory_stats?.stats ?? {};
  const inactive = 'total_inactive_file' in stats ? stats['total_inactive_file'] : stats['inactive_file'];
  return inactive !== undefined && inactive < usage ? usage - inactive : usage;
}

export function statsRow(s: StatsJson): string[] {
  const usage = memoryUsage(s);
  const limit = s.memory_stats?.limit ?? 0;
  const rx = Object.values(s.networks ?? {}).reduce((n, v) => n + v.rx_bytes, 0);
  const tx = Object.values(s.networks ?? {}).reduce((n, v) => n + v.tx_bytes, 0);
  const io = s.blkio_stats?.io_service_bytes_recursive ?? [];
  const sum = (op: string): number => io.filter((e) => e.op.toLowerCase() === op).reduce((n, e) => n + e.value, 0);
  return [
    s.id.slice(0, 12),
    s.name.replace(/^\//, ''),
    `${cpuPercent(s).toFixed(2)}%`,
    `${bytesSize(usage)} / ${bytesSize(limit)}`,
    `${(limit !== 0 ? (usage / limit) * 100 : 0).toFixed(2)}%`,
    `${humanSize(rx, 3)} / ${humanSize(tx, 3)}`,
    `${humanSize(sum('read'), 3)} / ${humanSize(sum('write'), 3)}`,
    String(s.pids_stats?.current ?? 0),
  ];
}
