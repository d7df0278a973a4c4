/**
 * The run as one SVG with two panels, written by hand (no plotting
 * library): latency box plots per runtime on a log axis, and p50 against
 * the number of bind mounts.
 */
import type { BenchReport } from './report-types.js';
import { percentile } from './stats.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#7f7f7f'];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Decades (and 2×, 5×) between lo and hi, for a log axis. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= lo && t <= hi) ticks.push(t);
    }
  }
  return ticks;
}

export interface Box { label: string; min: number; q1: number; median: number; q3: number; max: number; p99: number }

export function boxOf(label: string, samples: readonly number[]): Box {
  const s = [...samples].sort((a, b) => a - b);
  return { label, min: s[0]!, q1: percentile(s, 0.25), median: percentile(s, 0.5), q3: percentile(s, 0.75), max: s[s.length - 1]!, p99: percentile(s, 0.99) };
}

export function renderSvg(r: BenchReport): string {
  const width = 900;
  const boxes = r.latency.filter((x) => x.status === 'ok' && x.samples.length > 0).map((x) => boxOf(x.name, x.samples));
  const rowH = 34;
  const left = 290;
  const plotW = width - left - 40;
  const top1 = 50;
  const h1 = Math.max(1, boxes.length) * rowH;
  const all = boxes.flatMap((b) => [b.min, b.max]).filter((x) => x > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...all, 1)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all, 10)));
  const x = (v: number) => left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  const el: string[] = [];
  el.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">Launch latency of /bin/true (ms, log scale) — ${escapeXml(r.startedAt)}${r.quick ? ' (quick mode)' : ''}</text>`);
  for (const t of logTicks(lo, hi)) {
    el.push(`<line x1="${x(t).toFixed(1)}" y1="${top1}" x2="${x(t).toFixed(1)}" y2="${top1 + h1}" stroke="#ddd"/>`);
    el.push(`<text x="${x(t).toFixed(1)}" y="${top1 + h1 + 16}" text-anchor="middle" font-size="11">${t}</text>`);
  }
  boxes.forEach((b, i) => {
    const cy = top1 + i * rowH + rowH / 2;
    const c = COLORS[i % COLORS.length]!;
    el.push(`<text x="${left - 8}" y="${cy + 4}" text-anchor="end" font-size="12">${escapeXml(b.label)}</text>`);
    el.push(`<line x1="${x(b.min).toFixed(1)}" y1="${cy}" x2="${x(b.max).toFixed(1)}" y2="${cy}" stroke="${c}"/>`);
    el.push(`<rect x="${x(b.q1).toFixed(1)}" y="${cy - 10}" width="${Math.max(1, x(b.q3) - x(b.q1)).toFixed(1)}" height="20" fill="${c}" fill-opacity="0.35" stroke="${c}"/>`);
    el.push(`<line x1="${x(b.median).toFixed(1)}" y1="${cy - 10}" x2="${x(b.median).toFixed(1)}" y2="${cy + 10}" stroke="${c}" stroke-width="3"/>`);
    el.push(`<circle cx="${x(b.p99).toFixed(1)}" cy="${cy}" r="3" fill="${c}"><title>p99 ${b.p99.toFixed(2)} ms</title></circle>`);
    el.push(`<text x="${(x(b.max) + 4).toFixed(1)}" y="${cy + 4}" font-size="10" fill="#555">p50 ${b.median.toFixed(1)}</text>`);
  });
  el.push(`<text x="${left}" y="${top1 + h1 + 32}" font-size="11" fill="#555">box: p25–p75, thick line: p50, whiskers: min–max, dot: p99</text>`);

  // Panel 2: p50 against mount count.
  const growth = r.mountGrowth.filter((g) => g.status === 'ok' && g.points.length > 0);
  const top2 = top1 + h1 + 80;
  const h2 = 260;
  const left2 = 80;
  const w2 = width - left2 - 220;
  const maxM = Math.max(...r.mountCounts, 1);
  const ys = growth.flatMap((g) => g.points.map((p) => p.p50)).filter((v) => v > 0);
  const ylo = 10 ** Math.floor(Math.log10(Math.min(...ys, 1)));
  const yhi = 10 ** Math.ceil(Math.log10(Math.max(...ys, 10)));
  const gx = (m: number) => left2 + (m / maxM) * w2;
  const gy = (v: number) => top2 + h2 - ((Math.log10(Math.max(v, ylo)) - Math.log10(ylo)) / (Math.log10(yhi) - Math.log10(ylo))) * h2;
  el.push(`<text x="${width / 2}" y="${top2 - 20}" text-anchor="middle" font-size="16" font-weight="bold">p50 launch time vs number of bind mounts (ms, log scale)</text>`);
  el.push(`<rect x="${left2}" y="${top2}" width="${w2}" height="${h2}" fill="none" stroke="#999"/>`);
  for (const t of logTicks(ylo, yhi)) {
    el.push(`<line x1="${left2}" y1="${gy(t).toFixed(1)}" x2="${left2 + w2}" y2="${gy(t).toFixed(1)}" stroke="#eee"/>`);
    el.push(`<text x="${left2 - 6}" y="${(gy(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${t}</text>`);
  }
  for (const m of r.mountCounts) el.push(`<text x="${gx(m).toFixed(1)}" y="${top2 + h2 + 16}" text-anchor="middle" font-size="11">${m}</text>`);
  el.push(`<text x="${left2 + w2 / 2}" y="${top2 + h2 + 34}" text-anchor="middle" font-size="12">bind mounts</text>`);
  growth.forEach((g, i) => {
    const c = COLORS[i % COLORS.length]!;
    const pts = g.points.map((p) => `${gx(p.mounts).toFixed(1)},${gy(p.p50).toFixed(1)}`).join(' ');
    el.push(`<polyline points="${pts}" fill="none" stroke="${c}" stroke-width="2"/>`);
    for (const p of g.points) el.push(`<circle cx="${gx(p.mounts).toFixed(1)}" cy="${gy(p.p50).toFixed(1)}" r="3" fill="${c}"><title>${escapeXml(g.name)}: ${p.mounts} mounts, p50 ${p.p50.toFixed(2)} ms</title></circle>`);
    const slope = g.fit ? `${g.fit.slope.toFixed(3)} ms/mount` : '';
    el.push(`<rect x="${left2 + w2 + 15}" y="${top2 + i * 22}" width="12" height="12" fill="${c}"/>`);
    el.push(`<text x="${left2 + w2 + 32}" y="${top2 + i * 22 + 10}" font-size="11">${escapeXml(g.name)} ${slope}</text>`);
  });
  const height = top2 + h2 + 50;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${el.join('\n')}\n</svg>\n`;
}
