import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blkioEntries, memTotalBytes, networkStats, systemCpu, v1Sample, v2Sample, type CgroupFileReader } from '../../src/cgroups/index.js';

// Files recorded from a container of the reference dockerd 20.10 on this kind of
// machine (v1 hybrid: cpu and cpuacct separate), and what that dockerd answered
// for `GET /containers/{id}/stats?stream=false&one-shot=true` at the same moment.
const FIXTURE = join(import.meta.dirname, '../fixtures/cgroup-v1-stats');
const recorded: CgroupFileReader = (controller, file) => {
  try {
    return readFileSync(join(FIXTURE, controller, file), 'utf8');
  } catch {
    return undefined;
  }
};
const docker = JSON.parse(readFileSync(join(FIXTURE, 'docker-20.10-one-shot.json'), 'utf8')) as Record<string, Record<string, unknown>>;
const host = { memTotalBytes: memTotalBytes(readFileSync(join(FIXTURE, 'proc/meminfo'), 'utf8')) };

describe('v1 stats from recorded cgroup files', () => {
  const sample = v1Sample(recorded, host);

  it('gives the CPU usage dockerd gave, field by field (ns, kernel and user mode from USER_HZ ticks)', () => {
    const { system_cpu_usage: _s, online_cpus: _o, ...cpu } = docker['cpu_stats'] as Record<string, unknown>;
    expect(sample.cpu_stats).toEqual(cpu);
  });

  it('gives the memory stats dockerd gave: usage, max_usage, its 31 keys, the limit', () => {
    expect(sample.memory_stats).toEqual(docker['memory_stats']);
    // The docker CLI's usage subtracts this v1 key.
    expect(sample.memory_stats.stats?.['total_inactive_file']).toBeGreaterThan(0);
  });

  it('gives pids and (throttle policy) blkio as dockerd did', () => {
    expect(sample.pids_stats).toEqual(docker['pids_stats']);
    expect(sample.blkio_stats).toEqual(docker['blkio_stats']);
  });

  it('gives the network of the namespace, loopback left out', () => {
    expect(networkStats(readFileSync(join(FIXTURE, 'proc/net-dev'), 'utf8'))).toEqual(docker['networks']);
  });

  it('caps an unlimited memory limit at the machine memory and leaves pids.max "max" out', () => {
    const unlimited: CgroupFileReader = (c, f) =>
      f === 'memory.limit_in_bytes' ? '9223372036854771712\n' : f === 'pids.max' ? 'max\n' : recorded(c, f);
    const s = v1Sample(unlimited, host);
    expect(s.memory_stats.limit).toBe(host.memTotalBytes);
    expect(s.pids_stats).toEqual({ current: 1 });
  });

  it('reports failcnt only when non-zero, as dockerd (omitempty)', () => {
    const failing: CgroupFileReader = (c, f) => (f === 'memory.failcnt' ? '7\n' : recorded(c, f));
    expect(v1Sample(failing, host).memory_stats.failcnt).toBe(7);
    expect('failcnt' in sample.memory_stats).toBe(false);
  });
});

describe('blkio, system CPU and v2', () => {
  it('parses blkio lines per device and skips the device-less Total line', () => {
    expect(blkioEntries('8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n')).toEqual([
      { major: 8, minor: 0, op: 'Read', value: 4096 },
      { major: 8, minor: 0, op: 'Write', value: 8192 },
      { major: 8, minor: 0, op: 'Total', value: 12288 },
    ]);
  });

  it('sums the first seven /proc/stat cpu fields in ns and counts the online CPUs', () => {
    const text = 'cpu  10 1 20 300 4 0 5 7 0 0\ncpu0 5 0 10 150 2 0 3 0 0 0\ncpu1 5 1 10 150 2 0 2 7 0 0\nintr 1\n';
    expect(systemCpu(text)).toEqual({ systemCpuUsage: (10 + 1 + 20 + 300 + 4 + 0 + 5) * 1e7, onlineCpus: 2 });
  });

  it('reads a v2 cgroup: cpu.stat in usec, memory.current/max, io.stat per device', () => {
    const files: Record<string, string> = {
      'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 3\nnr_throttled 1\nthrottled_usec 20\n',
      'memory.current': '4096\n', 'memory.max': 'max\n', 'memory.stat': 'anon 100\ninactive_file 50\n',
      'pids.current': '2\n', 'pids.max': '64\n', 'io.stat': '8:16 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n',
    };
    const s = v2Sample((_c, f) => files[f], { memTotalBytes: 1000 });
    expect(s.cpu_stats).toEqual({
      cpu_usage: { total_usage: 1_500_000, usage_in_kernelmode: 500_000, usage_in_usermode: 1_000_000 },
      throttling_data: { periods: 3, throttled_periods: 1, throttled_time: 20_000 },
    });
    expect(s.memory_stats.usage).toBe(4096);
    expect(s.memory_stats.limit).toBe(1000);
    expect(s.memory_stats.stats?.['inactive_file']).toBe(50);
    expect(s.pids_stats).toEqual({ current: 2, limit: 64 });
    expect(s.blkio_stats.io_service_bytes_recursive).toEqual([
      { major: 8, minor: 16, op: 'read', value: 10 }, { major: 8, minor: 16, op: 'write', value: 20 },
    ]);
    expect(s.blkio_stats.io_queue_recursive).toBeNull();
  });
});
