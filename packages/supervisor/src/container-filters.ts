/**
 * `GET /containers/json` (`docker ps`): which containers a request selects,
 * with dockerd 20.10's filter semantics (moby's daemon/list.go).
 */
import type { ContainerRecord } from './container-store.js';
import { invalidFilter, type FilterKey, type Filters } from './filters.js';
import { InvalidParameterError, NotFoundError } from './errors.js';

export type ContainerFilters = Filters<FilterKey<'GET /containers/json'>>;

/** moby's container.IsValidStateString. */
const STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

export interface ContainerListRequest {
  all: boolean;
  /** Positive: the newest N, of any state. */
  limit?: number | undefined;
  filters: ContainerFilters;
}

export interface ContainerListContext {
  /** Newest first, as dockerd lists. */
  containers: readonly ContainerRecord[];
  isRestarting(id: string): boolean;
  /** A running container frozen by `docker pause` (`status=paused`). */
  isPaused?(id: string): boolean;
  /** The container a `before`/`since` value names (throws when none). */
  resolve(ref: string): ContainerRecord;
  /** The image id an `ancestor` value names, or undefined when it names none. */
  imageId(ref: string): Promise<string | undefined>;
}

/** Docker's state string of a container, as `ps` shows and `status=` matches it. */
export function stateString(rec: ContainerRecord, restarting: boolean, paused = false): string {
  return restarting ? 'restarting' : paused && rec.state === 'running' ? 'paused' : rec.state;
}

/** What the API calls a container's name: `/name`; `name=` also finds the bare name. */
function nameMatches(filters: ContainerFilters, name: string): boolean {
  return filters.match('name', `/${name}`) || filters.match('name', name);
}

/** `volume=` names a volume (or a bind's source) or a destination inside the container. */
function volumeMatches(filters: ContainerFilters, rec: ContainerRecord): boolean {
  const wanted = filters.get('volume');
  if (wanted.length === 0) return true;
  // A volume's source is its name, a bind's its host path: the stored specs say both.
  return rec.mounts.some((m) => wanted.includes(m.destination) || (m.source !== '' && wanted.includes(m.source)));
}

/** Linux containers have one isolation technology, `default`. */
function isolation(rec: ContainerRecord): string {
  const given = rec.hostConfig.Isolation;
  return typeof given === 'string' && given !== '' ? given.toLowerCase() : 'default';
}

function exitCodes(filters: ContainerFilters): number[] {
  return filters.get('exited').map((v) => {
    // Go's strconv.Atoi, and dockerd's text for what it refuses.
    if (!/^[+-]?\d+$/.test(v)) throw new InvalidParameterError(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  });
}

/** The reference container of `before`/`since`: dockerd's 20.10 text when there is none. */
function referenceContainer(ctx: ContainerListContext, filters: ContainerFilters, key: 'before' | 'since'): ContainerRecord | undefined {
  let found: ContainerRecord | undefined;
  for (const ref of filters.get(key)) {
    try {
      found = ctx.resolve(ref);
    } catch {
      throw new NotFoundError(`no such container ${ref}`);
    }
  }
  return found;
}

/** The containers `GET /containers/json` answers, newest first. */
export async function selectContainers(req: ContainerListRequest, ctx: ContainerListContext): Promise<ContainerRecord[]> {
  const f = req.filters;
  for (const s of f.get('status')) {
    if (!STATES.includes(s)) throw invalidFilter(`status=${s}`);
  }
  const exited = exitCodes(f);
  const isTask = f.bool('is-task', false);
  const before = referenceContainer(ctx, f, 'before');
  const since = referenceContainer(ctx, f, 'since');
  const ancestors = f.contains('ancestor')
    ? new Set((await Promise.all(f.get('ancestor').map((ref) => ctx.imageId(ref)))).filter((id) => id !== undefined))
    : undefined;
  // A status filter, or a limit, lists stopped containers too (dockerd sets All for both).
  const all = req.all || f.contains('status') || (req.limit ?? 0) > 0;

  const position = (rec: ContainerRecord | undefined): number | undefined =>
    rec === undefined ? undefined : ctx.containers.findIndex((c) => c.id === rec.id);
  const beforeAt = position(before);
  const sinceAt = position(since);

  const out: ContainerRecord[] = [];
  for (const [i, c] of ctx.containers.entries()) {
    if (req.limit !== undefined && req.limit > 0 && out.length === req.limit) break;
    const restarting = ctx.isRestarting(c.id);
    const running = c.state === 'running' || restarting;
    if (!running && !all) continue;
    if (!nameMatches(f, c.name)) continue;
    if (!f.fuzzyMatch('id', c.id)) continue;
    if (!f.matchKVList('label', c.config.Labels)) continue;
    if (!f.match('isolation', isolation(c))) continue;
    // The list is newest first: `before` keeps what comes after its container, `since` what comes before.
    if (beforeAt !== undefined && i <= beforeAt) continue;
    if (sinceAt !== undefined && i >= sinceAt) continue;
    if (exited.length > 0 && (running || c.startedAt === '' || !exited.includes(c.exitCode))) continue;
    if (!f.match('status', stateString(c, restarting, ctx.isPaused?.(c.id) ?? false))) continue;
    if (ancestors && !ancestors.has(c.imageId)) continue;
    if (!volumeMatches(f, c)) continue;
    // berth runs no swarm tasks.
    if (f.contains('is-task') && isTask) continue;
    out.push(c);
  }
  return out;
}
