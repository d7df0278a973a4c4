/**
 * `GET /networks` and `POST /networks/prune` filters, with dockerd 20.10's
 * semantics: values of one key are ORed, keys ANDed; `name` and `id` match
 * as substrings/prefixes, `driver` and `scope` exactly. Takes the already
 * decoded `filters` map so the API's one filter parser can feed it.
 */
import { InvalidNetworkConfigError } from './errors.js';
import type { NetworkRecord } from './types.js';

export type FilterMap = Readonly<Record<string, readonly string[]>>;

const LIST_KEYS = new Set(['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling']);
const PRUNE_KEYS = new Set(['until', 'label', 'label!']);

function labelMatches(labels: Record<string, string>, expr: string): boolean {
  const eq = expr.indexOf('=');
  if (eq < 0) return Object.hasOwn(labels, expr);
  return labels[expr.slice(0, eq)] === expr.slice(eq + 1);
}

function parseBool(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InvalidNetworkConfigError(`invalid filter '${key}=${value}'`);
}

/** Keeps the networks every filter key accepts; `inUse(id)` says whether a container is connected. */
export function filterNetworks(networks: readonly NetworkRecord[], filters: FilterMap, inUse: (id: string) => boolean): NetworkRecord[] {
  for (const key of Object.keys(filters)) if (!LIST_KEYS.has(key)) throw new InvalidNetworkConfigError(`invalid filter '${key}'`);
  for (const t of filters['type'] ?? []) {
    if (t !== 'custom' && t !== 'builtin') throw new InvalidNetworkConfigError(`invalid filter: 'type'='${t}'`);
  }
  const any = (key: string, test: (v: string) => boolean): boolean => {
    const values = filters[key] ?? [];
    return values.length === 0 || values.some(test);
  };
  const dangling = filters['dangling'] ?? [];
  if (dangling.length > 1) throw new InvalidNetworkConfigError("invalid filter 'dangling': give one value");
  const wantDangling = dangling.length === 1 ? parseBool('dangling', dangling[0]!) : undefined;
  return networks.filter((n) =>
    any('driver', (v) => v === n.driver)
    && any('id', (v) => n.id.startsWith(v) || n.id.includes(v))
    && any('name', (v) => n.name.includes(v))
    && any('scope', (v) => v === 'local')
    && any('type', (v) => (v === 'builtin') === n.predefined)
    && (filters['label'] ?? []).every((l) => labelMatches(n.labels, l))
    && (wantDangling === undefined || (wantDangling ? !n.predefined && !inUse(n.id) : n.predefined || inUse(n.id))));
}

/** Networks `prune` removes: user networks without containers, older than `until`, with (or without, `label!`) labels. */
export function pruneCandidates(networks: readonly NetworkRecord[], filters: FilterMap, inUse: (id: string) => boolean, now = Date.now()): NetworkRecord[] {
  for (const key of Object.keys(filters)) if (!PRUNE_KEYS.has(key)) throw new InvalidNetworkConfigError(`invalid filter '${key}'`);
  const until = filters['until'] ?? [];
  if (until.length > 1) throw new InvalidNetworkConfigError("invalid filter 'until': give one value");
  const cutoff = until.length === 1 ? parseUntil(until[0]!, now) : undefined;
  return networks.filter((n) => !n.predefined && !inUse(n.id)
    && (cutoff === undefined || Date.parse(n.created) < cutoff)
    && (filters['label'] ?? []).every((l) => labelMatches(n.labels, l))
    && !(filters['label!'] ?? []).some((l) => labelMatches(n.labels, l)));
}

/** `until`: a Unix timestamp, an RFC 3339 time, or a Go duration before now (`10m`, `1h30m`). */
function parseUntil(value: string, now: number): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (!Number.isNaN(t)) return t;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(value)) !== null) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed !== value.length || value === '') throw new InvalidNetworkConfigError(`invalid filter 'until=${value}'`);
  return now - total;
}
