/** The run as a markdown report. */
import type { BenchReport, LatencyRow } from './report-types.js';

const ms = (x: number | undefined, d = 2) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));

function latencyLine(r: LatencyRow): string {
  if (r.status !== 'ok' || !r.summary) {
    return `| ${r.name} | ${r.status}${r.reason ? `: ${r.reason.replace(/\|/g, '\\|')}` : ''} | | | | | | | |`;
  }
  const s = r.summary;
  const ratio = r.ratioToCrun ? `${r.ratioToCrun.ofP50s.toFixed(2)}× / ${r.ratioToCrun.perIterationMedian.toFixed(2)}×` : '–';
  return `| ${r.name} | ${s.n} | ${ms(s.p50)} | ${ms(s.p90)} | ${ms(s.p99)} | ${ms(s.min)} | ${ms(s.max)} | ${ratio} | |`.replace(/ \| \|$/, ' |');
}

export function renderTables(r: BenchReport): string {
  const out: string[] = [];
  out.push(`Run ${r.startedAt}${r.quick ? ' — **quick mode**: fewer runs than the issue\'s ≥ 200; use for development only' : ''}. ${r.runs} interleaved iterations after ${r.warmup} warm-up; podman and the CLI in the first ${r.latency.find((x) => x.name.startsWith('podman'))?.summary?.n ?? r.latency.find((x) => x.name.startsWith('berth run'))?.summary?.n ?? '–'} of them. Total ${r.durationS.toFixed(0)} s.`);
  out.push('');
  const m = r.machine;
  out.push(`Machine: Linux ${m.kernel}, ${m.cores} cores (${m.cpuModel}), Node ${m.node}, ${m.cgroup}; load average ${m.loadAverageStart.map((x) => x.toFixed(2)).join(' ')} at start, ${m.loadAverageEnd.map((x) => x.toFixed(2)).join(' ')} at end (shared machine: other work ran at the same time). Peers: ${Object.entries(m.peers).map(([k, v]) => `${k} ${v}`).join('; ')}.`);
  out.push('');
  out.push('### Targets (issues 7 and 16)');
  out.push('');
  out.push('| target | measured | result |');
  out.push('|---|---|---|');
  for (const t of r.targets) out.push(`| ${t.target} | ${t.measured} | ${t.met === 'n/a' ? 'n/a' : t.met ? 'met' : '**missed**'} |`);
  out.push('');
  out.push('### 1. Launch latency of `/bin/true` (ms, wall time)');
  out.push('');
  out.push('Ratio to crun: p50 of the row ÷ p50 of crun over the iterations both ran / median over those iterations of (row ÷ crun in the same iteration).');
  out.push('');
  out.push('| runtime | n | p50 | p90 | p99 | min | max | ratio to crun |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const row of r.latency) out.push(latencyLine(row));
  out.push('');
  // The figure users compare with: `docker run --rm` on the real Docker, beside berth's two clients.
  const p50 = (name: string) => r.latency.find((x) => x.name === name)?.summary?.p50;
  const dockerd = p50('dockerd');
  if (dockerd !== undefined) {
    const beside = [['berth run --rm (CLI + supervisor)', '`berth run --rm`'], ['docker run --rm (docker CLI on berth)', 'the docker CLI on berth']]
      .map(([name, label]) => { const v = p50(name!); return v === undefined ? undefined : `${label} ${ms(v, 1)} ms (${(v / dockerd).toFixed(2)}×)`; })
      .filter((x) => x !== undefined);
    out.push(`Against the real Docker (\`docker run --rm\` on dockerd 20.10, p50 ${ms(dockerd, 1)} ms): ${beside.join(', ')}.`);
    out.push('');
  }
  const lib = r.latencyLib;
  out.push(`100 sequential library launches (start → exited → cleanup, back to back): ${(lib.hundredSequentialMs / 1000).toFixed(2)} s. Inside a library launch: worker namespace+mount setup p50 ${ms(lib.setupMs?.p50)} ms (setupMs); cleanup after exit p50 ${ms(lib.cleanupMs?.p50)} ms (not in the latency figures).`);
  const sb = r.sandboxes;
  if (sb) {
    out.push('');
    out.push(`Sandboxes built ahead (${sb.perWorker} per worker, ${sb.workers} workers): ${sb.used} of ${sb.launches} library launches served by one; ${sb.built} built, ${sb.discarded} discarded; ` +
      `${sb.buildMsPerSandbox.toFixed(2)} ms of worker time to build one (in every figure above: the refill runs between launches on the same workers); ` +
      `${sb.parked} parked after case 1, ${(sb.rssKbPerSandbox / 1024).toFixed(2)} MB resident each (shim + stub; the mounts and namespaces are kernel memory, not counted).`);
  }
  out.push('');
  out.push('### 2. Cost growth with bind mounts (p50 ms at 0/1/10/50/100 binds)');
  out.push('');
  out.push(`| runtime | ${r.mountCounts.join(' | ')} | ms per extra mount (least squares) | r² |`);
  out.push(`|---|${r.mountCounts.map(() => '---').join('|')}|---|---|`);
  for (const g of r.mountGrowth) {
    if (g.status !== 'ok' || !g.fit) {
      out.push(`| ${g.name} | ${g.status}${g.reason ? `: ${g.reason.replace(/\|/g, '\\|')}` : ''} |${r.mountCounts.map(() => '').join(' |')} | |`);
      continue;
    }
    out.push(`| ${g.name} | ${g.points.map((p) => ms(p.p50)).join(' | ')} | ${g.fit.slope.toFixed(3)} | ${g.fit.r2.toFixed(2)} |`);
  }
  out.push('');
  out.push(`### 3. Throughput (berth library, pool of ${r.throughput.poolSize} workers)`);
  out.push('');
  out.push('| in flight | launches | seconds | launches/s |');
  out.push('|---|---|---|---|');
  for (const t of r.throughput.rows) out.push(`| ${t.inFlight} | ${t.launches} | ${t.seconds.toFixed(2)} | ${t.perSecond.toFixed(0)} |`);
  out.push('');
  out.push('### 4. Volume store scaling');
  out.push('');
  out.push('| step | ms | note |');
  out.push('|---|---|---|');
  for (const v of r.volumes) out.push(`| ${v.name} | ${ms(v.ms, 1)} | ${v.note ?? ''} |`);
  out.push('');
  out.push('### 5. Image import throughput (archive MB/s, median; both followed by sync -f)');
  out.push('');
  out.push('| image | archive MB | berth import ms | berth MB/s | tar -x of the layers ms | tar -x MB/s | berth speed ÷ tar speed |');
  out.push('|---|---|---|---|---|---|---|');
  const range = (x: [number, number] | undefined): string => (x ? ` (${ms(x[0], 0)}–${ms(x[1], 0)})` : '');
  for (const i of r.imports) {
    const image = i.repeats === undefined ? i.image : `${i.image}, ${i.repeats} interleaved repeats`;
    out.push(`| ${image} | ${(i.bytes / 1e6).toFixed(1)} | ${ms(i.berthMs, 0)}${range(i.berthRangeMs)} | ${i.berthMBps.toFixed(0)} | ${ms(i.tarMs, 0)}${range(i.tarRangeMs)} | ${i.tarMBps.toFixed(0)} | ${(i.tarMs / i.berthMs).toFixed(2)}× |`);
  }
  out.push('');
  if (r.pull) {
    const p = r.pull;
    out.push('### 7. Pull from a local registry (median; fresh storage; both followed by sync -f)');
    out.push('');
    out.push('| image | berth pull ms | podman pull ms | berth speed ÷ podman speed |');
    out.push('|---|---|---|---|');
    out.push(`| ${p.image} | ${ms(p.berthMs, 0)} | ${p.podmanMs === undefined ? p.podmanMissing ?? '' : ms(p.podmanMs, 0)} | ${p.podmanMs === undefined ? '' : `${(p.podmanMs / p.berthMs).toFixed(2)}×`} |`);
    out.push('');
  }
  out.push('### 6. Memory (supervisor RSS)');
  out.push('');
  out.push('| what | MB | note |');
  out.push('|---|---|---|');
  for (const mm of r.memory) out.push(`| ${mm.name} | ${mm.rssMB.toFixed(1)} | ${mm.note ?? ''} |`);
  out.push('');
  if (r.seccomp !== undefined) {
    out.push('### 7. Seccomp (Docker\'s default profile through libseccomp)');
    out.push('');
    out.push('| step | ms | note |');
    out.push('|---|---|---|');
    for (const s of r.seccomp) out.push(`| ${s.name} | ${ms(s.ms, 4)} | ${s.note ?? ''} |`);
    out.push('');
  }
  out.push(`Host mount table unchanged after the run: ${r.hostMountsUnchanged ? 'yes' : '**NO**'}.`);
  return out.join('\n');
}

export function renderMarkdown(r: BenchReport, svgName: string): string {
  const out: string[] = [`# berth launch benchmark — ${r.startedAt}`, '', renderTables(r), '', `![latency and mount growth](${svgName})`, ''];
  out.push('### Exactly what each row ran');
  out.push('');
  for (const row of r.latency) if (row.command) out.push(`- **${row.name}**: \`${row.command}\``);
  out.push('');
  if (r.notes.length) {
    out.push('### Notes');
    out.push('');
    for (const n of r.notes) out.push(`- ${n}`);
    out.push('');
  }
  return out.join('\n');
}
