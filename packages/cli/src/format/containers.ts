/** `ps` rows from `GET /containers/json` entries. */
import { goTimestamp, timeAgo } from './duration.js';
import { psCommand, shortId } from './text.js';

export interface ContainerSummary {
  Id: string;
  Names?: string[] | null;
  Image?: string;
  Command?: string;
  Created?: number;
  State?: string;
  Status?: string;
  Ports?: unknown[] | null;
  Labels?: Record<string, string> | null;
  Mounts?: { Type?: string; Name?: string; Source?: string }[] | null;
}

export const PS_HEADER = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];

function names(c: ContainerSummary): string {
  return (c.Names ?? []).map((n) => (n.startsWith('/') ? n.slice(1) : n)).join(',');
}

export function psRow(c: ContainerSummary, now: number = Date.now()): string[] {
  return [shortId(c.Id), c.Image ?? '', psCommand(c.Command ?? ''), timeAgo(c.Created ?? 0, now), c.Status ?? '', '', names(c)];
}

/** docker's `ps --format json` object (all values strings). */
export function psJson(c: ContainerSummary, now: number = Date.now()): Record<string, string | null> {
  const mounts = c.Mounts ?? [];
  return {
    Command: psCommand(c.Command ?? ''),
    CreatedAt: goTimestamp(c.Created ?? 0),
    ID: shortId(c.Id),
    Image: c.Image ?? '',
    Labels: Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    LocalVolumes: String(mounts.filter((m) => m.Type === 'volume').length),
    Mounts: mounts.map((m) => m.Name ?? m.Source ?? '').join(','),
    Names: names(c),
    Networks: '',
    Platform: null,
    Ports: '',
    RunningFor: timeAgo(c.Created ?? 0, now),
    Size: '0B',
    State: c.State ?? '',
    Status: c.Status ?? '',
  };
}
