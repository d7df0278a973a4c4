import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderTables } from '../../src/markdown.js';
import { boxOf, escapeXml, logTicks, renderSvg } from '../../src/svg.js';
import { checkTargets } from '../../src/targets.js';
import { parseBenchArgs } from '../../src/args.js';
import { ociConfig, bindMounts } from '../../src/oci-config.js';
import type { BenchReport } from '../../src/report-types.js';
import { leastSquares, pairedRatio, summarize } from '../../src/stats.js';

function report(over: Partial<BenchReport> = {}): BenchReport {
  const berth = [4, 5, 6, 5, 5];
  const crun = [10, 11, 12, 10, 11];
  const counts = [0, 1, 10, 50, 100];
  const base: BenchReport = {
    startedAt: '2026-01-01T00:00:00.000Z', quick: true, runs: 5, warmup: 1, durationS: 12,
    machine: { kernel: '6.1', cores: 2, cpuModel: 'cpu', node: 'v20', loadAverageStart: [1, 1, 1], loadAverageEnd: [2, 2, 2], cgroup: 'cgroup v1 hybrid', peers: { crun: 'crun 1.8', podman: 'not installed' } },
    latencyLib: { hundredSequentialMs: 700, setupMs: summarize([1, 2]), cleanupMs: summarize([1]) },
    latency: [
      { name: 'berth (library, warm pool)', command: 'lib', status: 'ok', samples: berth, summary: summarize(berth), ratioToCrun: pairedRatio(berth, crun) },
      { name: 'berth run --rm (CLI + supervisor)', command: 'cli', status: 'unavailable', reason: 'no | daemon', samples: [] },
      { name: 'crun', command: 'crun run <x>', status: 'ok', samples: crun, summary: summarize(crun), ratioToCrun: pairedRatio(crun, crun) },
      { name: 'podman', command: '', status: 'not installed', samples: [] },
    ],
    mountCounts: counts,
    mountGrowth: [
      { name: 'berth (library)', status: 'ok', points: counts.map((m) => ({ mounts: m, p50: 5 + 0.1 * m, samples: 3 })), fit: leastSquares(counts, counts.map((m) => 5 + 0.1 * m)) },
      { name: 'crun', status: 'ok', points: counts.map((m) => ({ mounts: m, p50: 10 + 0.05 * m, samples: 3 })), fit: leastSquares(counts, counts.map((m) => 10 + 0.05 * m)) },
      { name: 'podman', status: 'not installed', points: [] },
    ],
    throughput: { poolSize: 4, rows: [{ inFlight: 8, launches: 100, seconds: 0.25, perSecond: 400 }] },
    volumes: [{ name: 'list 10,000', ms: 60, note: 'median of 9' }],
    imports: [{ image: 'busybox', bytes: 2e6, berthMs: 100, tarMs: 50, berthMBps: 20, tarMBps: 40 }],
    memory: [{ name: 'per worker', rssMB: 6 }],
    targets: [], hostMountsUnchanged: true, notes: ['a note'],
  };
  const r = { ...base, ...over };
  r.targets = checkTargets(r);
  return r;
}

describe('checkTargets', () => {
  it('judges each target from the same run and says n/a when a side is missing', () => {
    const t = report().targets;
    const by = (s: string) => t.find((x) => x.target.includes(s))!;
    // 0.45× of crun: under issue 7's 0.5×, over issue 16's 0.4×.
    expect(by('0.4× crun').met).toBe(false);
    expect(by('0.4× crun').measured).toMatch(/^0\.45×/);
    expect(by('100 sequential').met).toBe(false);
    expect(by('podman').met).toBe('n/a');
    expect(by('bind mount').met).toBe(false);
    expect(by('300 launches').met).toBe(true);
    expect(by('10,000 volumes').met).toBe(false);
    expect(by('idle RSS').met).toBe('n/a');
    expect(by('per running container').met).toBe('n/a');
  });
});

describe('renderMarkdown', () => {
  it('has the targets with missed in bold, every row, and peers that are not installed', () => {
    const md = renderMarkdown(report(), 'latest.svg');
    expect(md).toContain('| 100 sequential library launches ≤ 0.45 s | 0.70 s | **missed** |');
    expect(md).toMatch(/\| berth \(library, warm pool\) \| 5 \| 5\.00 \|/);
    expect(md).toContain('| podman | not installed |');
    expect(md).toContain('unavailable: no \\| daemon'); // a pipe in a reason must not split the table
    expect(md).toContain('quick mode');
    expect(md).toContain('![latency and mount growth](latest.svg)');
    expect(md).toContain('| berth (library) | 5.00 | 5.10 | 6.00 | 10.00 | 15.00 | 0.100 | 1.00 |');
    expect(md).toContain('load average 1.00 1.00 1.00 at start');
  });
  it('says plainly when the host mount table changed', () => {
    expect(renderTables(report({ hostMountsUnchanged: false }))).toContain('unchanged after the run: **NO**');
  });
});

describe('renderSvg', () => {
  it('is one well-formed svg with a box per measured runtime and a line per mount-growth row', () => {
    const svg = renderSvg(report());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="20"/g)).toHaveLength(2);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).not.toContain('NaN');
    expect(svg).toContain('0.100 ms/mount');
  });
  it('escapes names', () => {
    expect(escapeXml('a<b & "c">')).toBe('a&lt;b &amp; &quot;c&quot;&gt;');
  });
  it('log ticks and box quartiles', () => {
    expect(logTicks(1, 100)).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(boxOf('x', [5, 1, 3, 2, 4])).toMatchObject({ min: 1, q1: 2, median: 3, q3: 4, max: 5 });
  });
});

describe('parseBenchArgs and the OCI config', () => {
  it('quick mode uses 50 runs unless --runs says otherwise', () => {
    expect(parseBenchArgs(['--quick']).runs).toBe(50);
    expect(parseBenchArgs([]).runs).toBe(200);
    expect(parseBenchArgs(['--runs', '7', '--out', 'x', '--with-peers'])).toMatchObject({ runs: 7, out: 'x', withPeers: true });
    expect(() => parseBenchArgs(['--runs', '0'])).toThrow(/invalid --runs/);
    expect(() => parseBenchArgs(['--bogus'])).toThrow(/usage/);
  });
  it('binds land at /m0../mN after the default mounts, with no cgroup or rlimit settings', () => {
    const c = ociConfig({ args: ['/bin/true'], extraMounts: bindMounts('/src', 3) }) as { mounts: { destination: string }[]; linux: Record<string, unknown>; process: Record<string, unknown> };
    expect(c.mounts.map((m) => m.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/m0', '/m1', '/m2']);
    expect(c.linux['resources']).toBeUndefined();
    expect(c.process['rlimits']).toBeUndefined();
  });
});
