/**
 * `docker events`: what happened to containers, volumes and images, in
 * Docker's event shape, kept for replay (`--since`) and streamed live.
 */
import { EventEmitter } from 'node:events';
import { InvalidParameterError } from './errors.js';

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

  subscribe(fn: (e: DockerEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}

const FILTER_KEYS = ['type', 'event', 'container', 'image', 'volume', 'label'];

/**
 * Docker's event filters: values of one key match any, different keys must
 * all match. `container` matches the id (or a prefix) and the name;
 * `label` the actor's attributes (`k` or `k=v`).
 */
export function eventMatcher(filters: Record<string, string[]>): (e: DockerEvent) => boolean {
  for (const key of Object.keys(filters)) {
    if (!FILTER_KEYS.includes(key)) throw new InvalidParameterError(`invalid filter '${key}'; events filter on ${FILTER_KEYS.join(', ')}`);
  }
  const any = (key: string, test: (v: string) => boolean): boolean => {
    const values = filters[key] ?? [];
    return values.length === 0 || values.some(test);
  };
  const named = (e: DockerEvent, v: string): boolean => e.Actor.ID.startsWith(v) || e.Actor.Attributes['name'] === v.replace(/^\//, '');
  return (e) =>
    any('type', (v) => e.Type === v) &&
    any('event', (v) => e.Action === v || e.Action.startsWith(`${v}:`)) &&
    any('container', (v) => e.Type === 'container' && named(e, v)) &&
    any('image', (v) => (e.Type === 'image' && named(e, v)) || e.Actor.Attributes['image'] === v) &&
    any('volume', (v) => e.Type === 'volume' && e.Actor.ID === v) &&
    any('label', (v) => {
      const eq = v.indexOf('=');
      return eq < 0 ? v in e.Actor.Attributes : e.Actor.Attributes[v.slice(0, eq)] === v.slice(eq + 1);
    });
}

/** A `since`/`until` as Docker's API takes it (events, prune filters): Unix seconds (fractional) or an RFC 3339 time. */
export function apiTime(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  const t = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Date.parse(value) / 1000;
  if (!Number.isFinite(t)) throw new InvalidParameterError(`invalid ${name} '${value}': use Unix seconds or an RFC 3339 time`);
  return t;
}
