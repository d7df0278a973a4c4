/**
 * `docker events`: what happened to containers, volumes and images, in
 * Docker's event shape, kept for replay (`--since`) and streamed live.
 */
import { EventEmitter } from 'node:events';
import { InvalidParameterError } from './errors.js';
import type { FilterKey, Filters } from './filters.js';

export type EventType = 'container' | 'volume' | 'image' | 'network';

export interface DockerEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  /** The pre-1.22 fields the docker CLI still prints for containers and images. */
  status?: string;
  id?: string;
  from?: string;
}

/** Events kept for `--since`: dockerd keeps 256. */
const KEEP = 1024;

export class EventBus {
  private readonly recent: DockerEvent[] = [];
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): DockerEvent {
    const nowNs = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    const event: DockerEvent = {
      Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local',
      time: Number(nowNs / 1_000_000_000n), timeNano: Number(nowNs),
      ...(type !== 'volume' ? { status: action, id, ...(attributes['image'] ? { from: attributes['image'] } : {}) } : {}),
    };
    this.recent.push(event);
    if (this.recent.length > KEEP) this.recent.shift();
    this.emitter.emit('event', event);
    return event;
  }

  /** Events kept since `since` (Unix seconds), oldest first. */
  replay(since: number): DockerEvent[] {
    return this.recent.filter((e) => e.timeNano / 1e9 >= since);
  }

  /** How many clients follow the stream (`/info`'s NEventsListener). */
  listeners(): number {
    return this.emitter.listenerCount('event');
  }

  subscribe(fn: (e: DockerEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}

export type EventFilters = Filters<FilterKey<'GET /events'>>;

/** `busybox:1.36` → `busybox`; digests and untagged names stay as they are. */
function stripTag(ref: string): string {
  if (ref.includes('@')) return ref;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(0, colon) : ref;
}

/** Event keys that name an actor by id or `name` attribute, any prefix (moby's fuzzyMatchName). */
const ACTOR_KEYS = ['container', 'volume', 'network', 'daemon', 'plugin', 'node', 'service', 'secret', 'config'] as const;

/**
 * dockerd's event filter (moby's daemon/events/filter.go): every key given
 * must match; the values of one key match any, except `label`, whose values
 * all must be among the actor's attributes.
 */
export function eventMatcher(filters: EventFilters): (e: DockerEvent) => boolean {
  // `exec_create` and the like carry the command after a colon; the bare action matches them as a prefix.
  const fuzzyEvent = filters.get('event').some((v) => ['health_status', 'exec_create', 'exec_start'].includes(v));
  return (e) => {
    const name = e.Actor.Attributes['name'] ?? '';
    const imageName = e.Actor.Attributes[e.Type === 'image' ? 'name' : 'image'] ?? '';
    return (fuzzyEvent ? filters.fuzzyMatch('event', e.Action) : filters.exactMatch('event', e.Action)) &&
      filters.exactMatch('type', e.Type) &&
      filters.exactMatch('scope', e.scope) &&
      ACTOR_KEYS.every((key) => filters.fuzzyMatch(key, e.Actor.ID) || filters.fuzzyMatch(key, name)) &&
      [e.Actor.ID, imageName, stripTag(e.Actor.ID), stripTag(imageName)].some((v) => filters.exactMatch('image', v)) &&
      filters.matchKVList('label', e.Actor.Attributes);
  };
}

/** A `since`/`until` as Docker's API takes it (events, prune filters): Unix seconds (fractional) or an RFC 3339 time. */
export function apiTime(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  const t = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Date.parse(value) / 1000;
  if (!Number.isFinite(t)) throw new InvalidParameterError(`invalid ${name} '${value}': use Unix seconds or an RFC 3339 time`);
  return t;
}
