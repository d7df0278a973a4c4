import type { VolumeRecord } from './metadata.js';
import type { PruneFilters, VolumeFilters } from './types.js';

function values(v: string | readonly string[] | undefined): readonly string[] {
  if (v === undefined) return [];
  return typeof v === 'string' ? [v] : v;
}

/** moby's MatchKVList: every `k` / `k=v` must be present in the labels. */
export function matchesLabels(labels: Readonly<Record<string, string>>, wanted: readonly string[]): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    if (eq === -1) return Object.hasOwn(labels, w);
    const key = w.slice(0, eq);
    return Object.hasOwn(labels, key) && labels[key] === w.slice(eq + 1);
  });
}

export function listPredicate(filters: VolumeFilters, refCounts: () => Map<string, number>): (r: VolumeRecord) => boolean {
  const names = values(filters.name);
  const labels = values(filters.label);
  const drivers = values(filters.driver);
  const counts = filters.dangling === undefined ? undefined : refCounts();
  return (r) => {
    if (names.length > 0 && !names.some((n) => r.name.includes(n))) return false;
    if (drivers.length > 0 && !drivers.includes(r.driver)) return false;
    if (labels.length > 0 && !matchesLabels(r.labels, labels)) return false;
    if (counts !== undefined && ((counts.get(r.name) ?? 0) === 0) !== filters.dangling) return false;
    return true;
  };
}

export function prunePredicate(filters: PruneFilters | undefined): (r: VolumeRecord) => boolean {
  const include = values(filters?.label);
  const exclude = values(filters?.['label!']);
  return (r) => {
    if (include.length > 0 && !matchesLabels(r.labels, include)) return false;
    // moby: excluded only when every label! value matches (MatchKVList).
    if (exclude.length > 0 && matchesLabels(r.labels, exclude)) return false;
    return true;
  };
}
