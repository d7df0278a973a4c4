/** The targets of issues 7 and 16 (16's where it tightened them), checked against one run's figures (ratios within the run). */
import type { BenchReport, TargetCheck } from './report-types.js';

const f = (x: number, d = 2) => x.toFixed(d);

export function checkTargets(r: Pick<BenchReport, 'latency' | 'latencyLib' | 'mountGrowth' | 'throughput' | 'volumes' | 'seccomp'> & Partial<Pick<BenchReport, 'memory'>>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  // An exact name first: `podman` must not pick a `podman run --rm --network bridge` row listed before it.
  const row = (name: string) => r.latency.find((x) => x.name === name) ?? r.latency.find((x) => x.name.startsWith(name));
  const lib = row('berth (library');
  const cli = row('berth run --rm');
  const crun = row('crun');
  const podman = row('podman');
  const dockerCli = row('docker run --rm (docker CLI on berth)');
  const nodeFloor = row('node -e 0');

  if (lib?.ratioToCrun && crun?.summary) {
    const ratio = lib.ratioToCrun.ofP50s;
    checks.push({ target: 'library launch p50 ≤ 0.4× crun run p50 (same run)', measured: `${f(ratio)}× (per-iteration median ${f(lib.ratioToCrun.perIterationMedian)}×)`, met: ratio <= 0.4 });
  } else {
    checks.push({ target: 'library launch p50 ≤ 0.4× crun run p50 (same run)', measured: `crun ${crun?.status ?? 'missing'}`, met: 'n/a' });
  }
  checks.push({ target: '100 sequential library launches ≤ 0.45 s', measured: `${f(r.latencyLib.hundredSequentialMs / 1000)} s`, met: r.latencyLib.hundredSequentialMs <= 450 });

  if (cli?.summary && podman?.summary) {
    const ratio = cli.summary.p50 / podman.summary.p50;
    checks.push({ target: '`berth run --rm` ≤ 0.25× `podman run --rm` (p50s, same run)', measured: `${f(ratio)}×`, met: ratio <= 0.25 });
  } else {
    checks.push({ target: '`berth run --rm` ≤ 0.25× `podman run --rm` (p50s, same run)', measured: `berth CLI ${cli?.status ?? 'missing'}${cli?.reason ? ` (${cli.reason})` : ''}, podman ${podman?.status ?? 'missing'}`, met: 'n/a' });
  }

  // Issue 16: the CLI within 25 ms of Node's own start-up; the docker CLI on berth ≤ 0.2× podman.
  if (cli?.summary && nodeFloor?.summary) {
    const over = cli.summary.p50 - nodeFloor.summary.p50;
    checks.push({ target: '`berth run --rm` ≤ `node -e 0` + 25 ms (p50s, same run)', measured: `+${f(over, 0)} ms (${f(cli.summary.p50 / nodeFloor.summary.p50)}× node -e 0)`, met: over <= 25 });
  } else {
    checks.push({ target: '`berth run --rm` ≤ `node -e 0` + 25 ms (p50s, same run)', measured: `berth CLI ${cli?.status ?? 'missing'}`, met: 'n/a' });
  }
  if (dockerCli?.summary && podman?.summary) {
    const ratio = dockerCli.summary.p50 / podman.summary.p50;
    checks.push({ target: 'docker CLI `run --rm` on berth ≤ 0.2× `podman run --rm` (p50s, same run)', measured: `${f(ratio)}×`, met: ratio <= 0.2 });
  } else {
    checks.push({ target: 'docker CLI `run --rm` on berth ≤ 0.2× `podman run --rm` (p50s, same run)', measured: `docker CLI row ${dockerCli?.status ?? 'missing'}, podman ${podman?.status ?? 'missing'}`, met: 'n/a' });
  }

  const berthFit = r.mountGrowth.find((m) => m.name === 'berth (library)')?.fit;
  const crunFit = r.mountGrowth.find((m) => m.name === 'crun')?.fit;
  if (berthFit && crunFit) {
    checks.push({ target: 'ms per extra bind mount ≤ 0.05 ms (and ≤ crun\'s)', measured: `berth ${f(berthFit.slope, 3)} ms vs crun ${f(crunFit.slope, 3)} ms`, met: berthFit.slope <= 0.05 && berthFit.slope <= crunFit.slope });
  } else {
    checks.push({ target: 'ms per extra bind mount ≤ 0.05 ms (and ≤ crun\'s)', measured: berthFit ? `berth ${f(berthFit.slope, 3)} ms; crun not measured` : 'not measured', met: berthFit ? berthFit.slope <= 0.05 : 'n/a' });
  }

  const t8 = r.throughput.rows.find((t) => t.inFlight === 8);
  checks.push({ target: '≥ 300 launches/s with 8 in flight', measured: t8 ? `${f(t8.perSecond, 0)}/s (pool of ${r.throughput.poolSize})` : 'not measured', met: t8 ? t8.perSecond >= 300 : 'n/a' });

  const list10k = r.volumes.find((v) => v.name === 'list 10,000');
  const seccompLookup = r.seccomp?.find((s) => s.name === 'per launch: cached default profile');
  checks.push({ target: 'seccomp per launch (cached filter) ≤ 0.1 ms', measured: seccompLookup ? `${f(seccompLookup.ms, 4)} ms` : 'not measured', met: seccompLookup ? seccompLookup.ms <= 0.1 : 'n/a' });
  checks.push({ target: 'list 10,000 volumes ≤ 10 ms (issue 16)', measured: list10k ? `${f(list10k.ms, 1)} ms` : 'not measured', met: list10k ? list10k.ms <= 10 : 'n/a' });
  const create1k = r.volumes.find((v) => v.name === 'create 1,000 volumes');
  const create9k = r.volumes.find((v) => v.name === 'create 9,000 more');
  const create10k = create1k && create9k ? create1k.ms + create9k.ms : undefined;
  checks.push({ target: 'create 10,000 volumes ≤ 2 s', measured: create10k !== undefined ? `${f(create10k / 1000, 2)} s` : 'not measured', met: create10k !== undefined ? create10k <= 2000 : 'n/a' });
  const prune = r.volumes.find((v) => v.name === 'prune --all of 10,000 unused');
  checks.push({ target: 'prune 10,000 volumes ≤ 0.5 s until the call returns', measured: prune ? `${f(prune.ms / 1000, 2)} s` : 'not measured', met: prune ? prune.ms <= 500 : 'n/a' });
  const idle = r.memory?.find((m) => m.name === 'supervisor idle, 4 workers');
  const perContainer = r.memory?.find((m) => m.name === 'per running container');
  checks.push({ target: 'supervisor idle RSS ≤ 70 MB', measured: idle ? `${f(idle.rssMB, 1)} MB (4 workers)` : 'not measured', met: idle ? idle.rssMB <= 70 : 'n/a' });
  checks.push({ target: '≤ 1 MB more supervisor RSS per running container', measured: perContainer ? `${f(perContainer.rssMB, 2)} MB` : 'not measured', met: perContainer ? perContainer.rssMB <= 1 : 'n/a' });
  return checks;
}
