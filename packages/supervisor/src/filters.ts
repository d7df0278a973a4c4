/**
 * Docker's `filters` query parameter and its semantics (moby's
 * `filters.Args`), once for every endpoint that filters: different keys
 * AND; the values of one key OR, except `label`, whose values all must
 * match (`matchKVList`). Each endpoint accepts a closed set of keys (the
 * table below); an unknown key is Docker's `Invalid filter 'KEY'`, and a
 * key Docker has that berth cannot answer yet is refused by name, never
 * ignored.
 */
import { InvalidParameterError, NotImplementedError } from './errors.js';

/** Per endpoint: the keys Docker accepts, and those of them berth cannot answer yet. */
export const FILTER_KEYS = {
  'GET /containers/json': {
    keys: ['ancestor', 'before', 'exited', 'expose', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume'],
    // Filled in as networks, ports and healthchecks arrive: move the key out of here and answer it in container-filters.ts.
    unanswered: ['expose', 'health', 'network', 'publish'],
  },
  'POST /containers/prune': { keys: ['label', 'label!', 'until'], unanswered: [] },
  'GET /images/json': { keys: ['before', 'dangling', 'label', 'reference', 'since'], unanswered: [] },
  'POST /images/prune': { keys: ['dangling', 'label', 'label!', 'until'], unanswered: [] },
  'GET /networks': { keys: ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'], unanswered: [] },
  'POST /networks/prune': { keys: ['label', 'label!', 'until'], unanswered: [] },
  'GET /volumes': { keys: ['dangling', 'driver', 'label', 'name'], unanswered: [] },
  'POST /volumes/prune': { keys: ['all', 'label', 'label!'], unanswered: [] },
  'GET /events': {
    keys: ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume'],
    unanswered: [],
  },
} as const satisfies Record<string, { keys: readonly string[]; unanswered: readonly string[] }>;

export type FilterEndpoint = keyof typeof FILTER_KEYS;
export type FilterKey<E extends FilterEndpoint> = (typeof FILTER_KEYS)[E]['keys'][number];

/** Docker's (20.10) text for a filter it refuses: `Invalid filter 'KEY'` or `Invalid filter 'KEY=[V W]'`. */
export function invalidFilter(key: string, values?: readonly string[]): InvalidParameterError {
  return new InvalidParameterError(`Invalid filter '${key}${values !== undefined ? `=[${values.join(' ')}]` : ''}'`);
}

/**
 * The parsed `filters` parameter: key → set of values. Parse it with
 * `Filters.parse`, then `accept` it for one endpoint to get the typed view
 * whose keys that endpoint knows.
 */
export class Filters<K extends string = string> {
  private constructor(private readonly fields: ReadonlyMap<string, ReadonlySet<string>>) {}

  /**
   * Both encodings: the CLI's `{"k":{"v":true}}` and the older
   * `{"k":["v"]}` that dockerode and docker-py send. An empty or absent
   * parameter is no filter.
   */
  static parse(raw: string | null | undefined): Filters {
    if (raw === null || raw === undefined || raw === '') return new Filters(new Map());
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new InvalidParameterError(`invalid filter: ${raw} is not JSON; expected {"key":["value"]}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InvalidParameterError(`invalid filter: ${raw}; expected {"key":["value"]}`);
    }
    const fields = new Map<string, Set<string>>();
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
        fields.set(key, new Set(value as string[]));
      } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((on) => typeof on === 'boolean')) {
        fields.set(key, new Set(Object.entries(value as Record<string, boolean>).filter(([, on]) => on).map(([v]) => v)));
      } else {
        throw new InvalidParameterError(`invalid filter ${JSON.stringify(key)}: expected a list of strings, or an object of strings to true`);
      }
    }
    return new Filters(fields);
  }

  /** Filters from plain data (tests, and requests berth builds itself). */
  static of<K extends string>(record: Partial<Record<K, readonly string[]>>): Filters<K> {
    return new Filters<K>(new Map(Object.entries(record).map(([k, v]) => [k, new Set(v as readonly string[])])));
  }

  /**
   * moby's `Validate` against the endpoint's keys: the first unknown key is
   * `Invalid filter 'KEY'` (400); a Docker key berth cannot answer yet is a
   * 501 that names it.
   */
  accept<E extends FilterEndpoint>(endpoint: E): Filters<FilterKey<E>> {
    const { keys, unanswered } = FILTER_KEYS[endpoint] as { keys: readonly string[]; unanswered: readonly string[] };
    for (const key of this.fields.keys()) {
      if (!keys.includes(key)) throw invalidFilter(key);
    }
    for (const key of this.fields.keys()) {
      if (unanswered.includes(key)) throw new NotImplementedError(`berth does not implement the '${key}' filter of ${endpoint} yet`);
    }
    return this as unknown as Filters<FilterKey<E>>;
  }

  keys(): K[] {
    return [...this.fields.keys()] as K[];
  }

  /** The values of `key`, in the order given. */
  get(key: K): string[] {
    return [...(this.fields.get(key) ?? [])];
  }

  /** moby's `Contains`/`Include`: the key was given (even with no values). */
  contains(key: K): boolean {
    return this.fields.has(key);
  }

  /** No filter for `key`: everything passes it. */
  private open(key: K): boolean {
    return (this.fields.get(key)?.size ?? 0) === 0;
  }

  /** moby's `ExactMatch`: `source` is one of the values. */
  exactMatch(key: K, source: string): boolean {
    return this.open(key) || this.fields.get(key)!.has(source);
  }

  /** moby's `FuzzyMatch`: a value equals `source` or is a prefix of it. */
  fuzzyMatch(key: K, source: string): boolean {
    if (this.exactMatch(key, source)) return true;
    return this.get(key).some((prefix) => source.startsWith(prefix));
  }

  /**
   * moby's `Match`: a value equals `source` or, read as an unanchored
   * regular expression, finds it; a value that is not a valid expression
   * only matches exactly.
   */
  match(key: K, source: string): boolean {
    if (this.exactMatch(key, source)) return true;
    return this.get(key).some((pattern) => goRegExp(pattern, key)?.test(source) ?? false);
  }

  /** moby's `MatchKVList`: every value `k` or `k=v` is among `labels`, so label filters AND. */
  matchKVList(key: K, labels: Readonly<Record<string, string>> | null | undefined): boolean {
    if (this.open(key)) return true;
    const sources = labels ?? {};
    if (Object.keys(sources).length === 0) return false;
    return this.get(key).every((value) => {
      const eq = value.indexOf('=');
      const k = eq < 0 ? value : value.slice(0, eq);
      if (!Object.hasOwn(sources, k)) return false;
      return eq < 0 || sources[k] === value.slice(eq + 1);
    });
  }

  /**
   * moby's `GetBoolOrDefault`: `true`/`1` or `false`/`0`, one meaning only;
   * anything else, or both meanings, is `Invalid filter 'KEY=[V]'`.
   */
  bool(key: K, fallback: boolean, words: { truthy: readonly string[]; falsy: readonly string[] } = BOOL_WORDS): boolean {
    if (!this.fields.has(key)) return fallback;
    const values = this.get(key);
    const isTrue = words.truthy.some((w) => values.includes(w));
    const isFalse = words.falsy.some((w) => values.includes(w));
    if (isTrue === isFalse) throw invalidFilter(key, values);
    return isTrue;
  }
}

const BOOL_WORDS = { truthy: ['true', '1'], falsy: ['false', '0'] } as const;

/** A repeated group that itself repeats or alternates: `(a+)+`, `(a|aa)*`. */
const NESTED_REPETITION = /\((?:[^()\\]|\\.)*[*+?}|](?:[^()\\]|\\.)*\)(?:[*+]|\{\d+,)/;

/**
 * A filter value as Go's regexp reads it, or undefined when it is none.
 * moby matches with Go's linear-time engine; JavaScript's backtracks, so a
 * pattern that could stall the supervisor for every client is refused with
 * what to send instead. Go's leading `(?i)` becomes the `i` flag.
 */
export function goRegExp(pattern: string, key = 'name'): RegExp | undefined {
  const trap = pattern.length > 256 ? 'is longer than 256 characters'
    : NESTED_REPETITION.test(pattern) ? 'repeats a group that itself repeats or alternates'
    : /\\[1-9k]/.test(pattern) ? 'uses a back-reference'
    : undefined;
  if (trap !== undefined) {
    throw new InvalidParameterError(`invalid filter '${key}=${pattern}': the expression ${trap}; use a plain value, a prefix (^app-) or a simpler expression`);
  }
  const insensitive = pattern.startsWith('(?i)');
  try {
    return new RegExp(insensitive ? pattern.slice(4) : pattern, insensitive ? 'i' : '');
  } catch {
    return undefined;
  }
}

const GO_DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Go's time.ParseDuration (`90m`, `1h30m`, `1.5h`, `-2s`), in seconds; undefined when it is none. */
export function goDurationSeconds(value: string): number | undefined {
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(value);
  if (!m) return value === '0' ? 0 : undefined;
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(part[1]) * GO_DURATION_UNITS[part[2]!]!;
  return m[1] === '-' ? -total : total;
}

/**
 * The `until` of a prune (moby's getUntilFromPruneFilters and
 * timetypes.GetTimestamp), in Unix seconds: a Go duration before now
 * (`24h`), an RFC 3339 time or date, or Unix seconds; at most one.
 */
export function pruneUntil(filters: { get(key: 'until'): string[] }, nowSeconds: number): number | undefined {
  const values = filters.get('until');
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new InvalidParameterError('more than one until filter specified');
  const value = values[0]!;
  const duration = value === '0' ? undefined : goDurationSeconds(value);
  if (duration !== undefined) return nowSeconds - duration;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  // A date or time without a zone is local time, as in moby.
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00` : value);
  if (!Number.isFinite(t)) throw new InvalidParameterError(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
  return t / 1000;
}
