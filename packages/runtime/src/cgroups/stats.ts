/**
 * A container's resource use in the Engine API's stats shape, read from its
 * cgroup files: pure functions over file contents (a `read(controller, file)`
 * callback), so unit tests feed recorded files. The field names and the
 * conversions are dockerd 20.10's (containerd's cgroup metrics turned into
 * `types.StatsJSON`): CPU times in nanoseconds, v1 `cpuacct.stat` ticks at
 * USER_HZ 100, the 31 v1 memory keys the docker CLI reads (it subtracts
 * `total_inactive_file`), the limit capped at the machine's memory.
 */

/** Reads one file of the container's cgroup; `controller` is the v1 hierarchy ('' on v2). Undefined when absent. */
export type CgroupFileReader = (controller: string, file: string) => string | undefined;

export interface CpuUsage {
  total_usage: number;
  percpu_usage?: number[];
  usage_in_kernelmode: number;
  usage_in_usermode: number;
}

export interface CpuStats {
  cpu_usage: CpuUsage;
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface MemoryStats {
  usage?: number;
  max_usage?: number;
  stats?: Record<string, number>;
  failcnt?: number;
  limit?: number;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface BlkioStats {
  io_service_bytes_recursive: BlkioEntry[] | null;
  io_serviced_recursive: BlkioEntry[] | null;
  io_queue_recursive: BlkioEntry[] | null;
  io_service_time_recursive: BlkioEntry[] | null;
  io_wait_time_recursive: BlkioEntry[] | null;
  io_merged_recursive: BlkioEntry[] | null;
  io_time_recursive: BlkioEntry[] | null;
  sectors_recursive: BlkioEntry[] | null;
}

export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** What one reading of a cgroup gives (the rest of Docker's stats is the caller's: times, name, precpu). */
export interface CgroupSample {
  cpu_stats: CpuStats;
  memory_stats: MemoryStats;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: BlkioStats;
}

/** Host facts a sample needs: `MemTotal` in bytes (the limit of an unlimited container). */
export interface HostFacts {
  memTotalBytes: number;
}

const USER_HZ = 100;
const NS_PER_TICK = 1e9 / USER_HZ;

/** The v1 `memory.stat` keys dockerd reports, in its order (containerd's MemoryStat). */
const V1_MEMORY_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable',
  'hierarchical_memory_limit', 'hierarchical_memsw_limit',
] as const;
const V1_TOTAL_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable',
] as const;

/** The v2 `memory.stat` keys dockerd 20.10 reports (containerd's v2 MemoryStat). */
const V2_MEMORY_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable', 'slab_unreclaimable',
  'pgfault', 'pgmajfault', 'workingset_refault', 'workingset_activate', 'workingset_nodereclaim', 'pgrefill', 'pgscan',
  'pgsteal', 'pgactivate', 'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
] as const;

/** "key value" lines as a map (cpu.stat, memory.stat, cpuacct.stat). */
export function flatKeyed(text: string | undefined): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^-?\d+$/.test(value)) map.set(key, Number(value));
  }
  return map;
}

/** A single-number file; 'max' (v2, pids) and absence are undefined. */
function single(text: string | undefined): number | undefined {
  const t = text?.trim();
  return t === undefined || t === '' || !/^-?\d+$/.test(t) ? undefined : Number(t);
}

/** `blkio.*_recursive` lines ("8:0 Read 4096"); the trailing "Total N" line has no device and is skipped, as containerd does. */
export function blkioEntries(text: string | undefined): BlkioEntry[] {
  const entries: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 3) continue;
    const [device = '', op = '', value = ''] = fields;
    const [major, minor] = device.split(':').map(Number);
    if (major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor)) continue;
    entries.push({ major, minor, op, value: Number(value) });
  }
  return entries;
}

const EMPTY_BLKIO = (value: [] | null): BlkioStats => ({
  io_service_bytes_recursive: value === null ? null : [], io_serviced_recursive: value === null ? null : [],
  io_queue_recursive: value === null ? null : [], io_service_time_recursive: value === null ? null : [],
  io_wait_time_recursive: value === null ? null : [], io_merged_recursive: value === null ? null : [],
  io_time_recursive: value === null ? null : [], sectors_recursive: value === null ? null : [],
});

function pidsStats(read: CgroupFileReader, controller: string): { current?: number; limit?: number } {
  const current = single(read(controller, 'pids.current'));
  const limit = single(read(controller, 'pids.max'));
  return { ...(current !== undefined ? { current } : {}), ...(limit !== undefined && limit > 0 ? { limit } : {}) };
}

/** A v1 (or hybrid) container cgroup, one directory per hierarchy. */
export function v1Sample(read: CgroupFileReader, host: HostFacts): CgroupSample {
  const cpuacct = flatKeyed(read('cpuacct', 'cpuacct.stat'));
  const percpu = (read('cpuacct', 'cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter((v) => v !== '').map(Number);
  const throttling = flatKeyed(read('cpu', 'cpu.stat'));
  const mem = flatKeyed(read('memory', 'memory.stat'));
  const stats: Record<string, number> = {};
  for (const key of V1_MEMORY_KEYS) stats[key] = mem.get(key) ?? 0;
  for (const key of V1_TOTAL_KEYS) stats[`total_${key}`] = mem.get(`total_${key}`) ?? 0;
  const limit = single(read('memory', 'memory.limit_in_bytes'));
  const failcnt = single(read('memory', 'memory.failcnt')) ?? 0;
  // CFQ's files when the kernel has them, else the throttle policy's (containerd's order).
  const cfq = read('blkio', 'blkio.io_serviced_recursive') !== undefined;
  const blk = (file: string): BlkioEntry[] => blkioEntries(read('blkio', `blkio.${file}`));
  const blkio: BlkioStats = cfq
    ? {
      io_service_bytes_recursive: blk('io_service_bytes_recursive'), io_serviced_recursive: blk('io_serviced_recursive'),
      io_queue_recursive: blk('io_queued_recursive'), io_service_time_recursive: blk('io_service_time_recursive'),
      io_wait_time_recursive: blk('io_wait_time_recursive'), io_merged_recursive: blk('io_merged_recursive'),
      io_time_recursive: blk('time_recursive'), sectors_recursive: blk('sectors_recursive'),
    }
    : { ...EMPTY_BLKIO([]), io_service_bytes_recursive: blk('throttle.io_service_bytes_recursive'), io_serviced_recursive: blk('throttle.io_serviced_recursive') };
  return {
    cpu_stats: {
      cpu_usage: {
        total_usage: single(read('cpuacct', 'cpuacct.usage')) ?? 0,
        ...(percpu.length > 0 ? { percpu_usage: percpu } : {}),
        usage_in_kernelmode: (cpuacct.get('system') ?? 0) * NS_PER_TICK,
        usage_in_usermode: (cpuacct.get('user') ?? 0) * NS_PER_TICK,
      },
      throttling_data: {
        periods: throttling.get('nr_periods') ?? 0, throttled_periods: throttling.get('nr_throttled') ?? 0,
        throttled_time: throttling.get('throttled_time') ?? 0,
      },
    },
    memory_stats: {
      usage: single(read('memory', 'memory.usage_in_bytes')) ?? 0,
      max_usage: single(read('memory', 'memory.max_usage_in_bytes')) ?? 0,
      stats,
      ...(failcnt > 0 ? { failcnt } : {}),
      limit: capLimit(limit, host),
    },
    pids_stats: pidsStats(read, 'pids'),
    blkio_stats: blkio,
  };
}

/** A v2 container cgroup: one directory, every file in it. */
export function v2Sample(read: CgroupFileReader, host: HostFacts): CgroupSample {
  const cpu = flatKeyed(read('', 'cpu.stat'));
  const mem = flatKeyed(read('', 'memory.stat'));
  const stats: Record<string, number> = {};
  for (const key of V2_MEMORY_KEYS) stats[key] = mem.get(key) ?? 0;
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (read('', 'io.stat') ?? '').split('\n')) {
    const [device = '', ...pairs] = line.trim().split(/\s+/);
    const [major, minor] = device.split(':').map(Number);
    if (major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor)) continue;
    const kv = new Map(pairs.map((p) => p.split('=') as [string, string]).map(([k, v]) => [k, Number(v)]));
    bytes.push({ major, minor, op: 'read', value: kv.get('rbytes') ?? 0 }, { major, minor, op: 'write', value: kv.get('wbytes') ?? 0 });
    ios.push({ major, minor, op: 'read', value: kv.get('rios') ?? 0 }, { major, minor, op: 'write', value: kv.get('wios') ?? 0 });
  }
  return {
    cpu_stats: {
      cpu_usage: {
        total_usage: (cpu.get('usage_usec') ?? 0) * 1000,
        usage_in_kernelmode: (cpu.get('system_usec') ?? 0) * 1000,
        usage_in_usermode: (cpu.get('user_usec') ?? 0) * 1000,
      },
      throttling_data: {
        periods: cpu.get('nr_periods') ?? 0, throttled_periods: cpu.get('nr_throttled') ?? 0,
        throttled_time: (cpu.get('throttled_usec') ?? 0) * 1000,
      },
    },
    memory_stats: {
      usage: single(read('', 'memory.current')) ?? 0,
      stats,
      limit: capLimit(single(read('', 'memory.max')), host),
    },
    pids_stats: pidsStats(read, ''),
    blkio_stats: { ...EMPTY_BLKIO(null), io_service_bytes_recursive: bytes, io_serviced_recursive: ios },
  };
}

/** An unlimited container's limit is the machine's memory, as dockerd reports it. */
function capLimit(limit: number | undefined, host: HostFacts): number {
  return limit === undefined || (host.memTotalBytes > 0 && limit > host.memTotalBytes) ? host.memTotalBytes : limit;
}

/**
 * The host's CPU time in nanoseconds (`system_cpu_usage`: the first seven
 * fields of /proc/stat's `cpu` line, as dockerd sums them) and the online
 * CPUs (the `cpuN` lines).
 */
export function systemCpu(procStat: string): { systemCpuUsage: number; onlineCpus: number } {
  let systemCpuUsage = 0;
  let onlineCpus = 0;
  for (const line of procStat.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === 'cpu') {
      systemCpuUsage = fields.slice(1, 8).reduce((sum, v) => sum + Number(v), 0) * NS_PER_TICK;
    } else if (/^cpu\d+$/.test(fields[0] ?? '')) {
      onlineCpus++;
    }
  }
  return { systemCpuUsage, onlineCpus };
}

/** `/proc/<pid>/net/dev` of the container's network namespace, loopback left out (Docker lists the sandbox's interfaces). */
export function networkStats(netDev: string): Record<string, NetworkStats> {
  const networks: Record<string, NetworkStats> = {};
  for (const line of netDev.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo') continue;
    const v = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    networks[name] = {
      rx_bytes: v[0] ?? 0, rx_packets: v[1] ?? 0, rx_errors: v[2] ?? 0, rx_dropped: v[3] ?? 0,
      tx_bytes: v[8] ?? 0, tx_packets: v[9] ?? 0, tx_errors: v[10] ?? 0, tx_dropped: v[11] ?? 0,
    };
  }
  return networks;
}

/** `MemTotal` of /proc/meminfo in bytes. */
export function memTotalBytes(meminfo: string): number {
  const match = /^MemTotal:\s+(\d+)\s+kB/m.exec(meminfo);
  return match ? Number(match[1]) * 1024 : 0;
}
