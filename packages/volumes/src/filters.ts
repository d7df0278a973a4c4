import type { VolumeRecord } from './metadata.js';
import { InvalidVolumeOptionError } from './errors.js';
import type { PruneFilters, Volume, VolumeFilters } from './types.js';

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

/**
 * moby's `filters.Args.Match`: a value matches when it equals the name or,
 * read as an unanchored regular expression, finds it (`foo` is a substring
 * match, `^app-` a prefix); a value that is no valid expression matches
 * only exactly, as moby skips patterns it cannot compile.
 */
export function nameMatcher(pattern: string): (name: string) => boolean {
  refuseBacktrackingTraps(pattern);
  let re: RegExp | undefined;
  try {
    re = new RegExp(pattern);
  } catch {
    re = undefined;
  }
  return (name) => name === pattern || (re?.test(name) ?? false);
}

/** A repeated group that itself repeats or alternates: `(a+)+`, `(a|aa)*`. */
const NESTED_REPETITION = /\((?:[^()\\]|\\.)*[*+?}|](?:[^()\\]|\\.)*\)(?:[*+]|\{\d+,)/;

/**
 * moby matches with Go's linear-time engine; JavaScript's backtracks, and one
 * request could stall the supervisor for every client. The patterns that
 * blow up are refused, with what to send instead.
 */
function refuseBacktrackingTraps(pattern: string): void {
  const trap = pattern.length > 256 ? 'is longer than 256 characters'
    : NESTED_REPETITION.test(pattern) ? 'repeats a group that itself repeats or alternates'
    : /\\[1-9k]/.test(pattern) ? 'uses a back-reference'
    : undefined;
  if (trap !== undefined) {
    throw new InvalidVolumeOptionError(`invalid filter 'name=${pattern}': the expression ${trap}; use a plain name, a prefix (^app-) or a simpler expression`);
  }
}

/** `docker volume ls` filters as a test on the API's volumes; undefined when there are none to apply. */
export function listPredicate(filters: VolumeFilters, refCounts: () => Map<string, number>): ((v: Volume) => boolean) | undefined {
  const names = values(filters.name).map(nameMatcher);
  const labels = values(filters.label);
  const drivers = values(filters.driver);
  const counts = filters.dangling === undefined ? undefined : refCounts();
  if (names.length === 0 && labels.length === 0 && drivers.length === 0 && counts === undefined) return undefined;
  return (v) => {
    if (names.length > 0 && !names.some((matches) => matches(v.Name))) return false;
    if (drivers.length > 0 && !drivers.includes(v.Driver)) return false;
    if (labels.length > 0 && !matchesLabels(v.Labels, labels)) return false;
    if (counts !== undefined && ((counts.get(v.Name) ?? 0) === 0) !== filters.dangling) return false;
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
