/** Durations and timestamps as docker prints them (go-units HumanDuration, in @berth/runtime/spec). */
import { humanDuration } from '@berth/runtime/spec';

export { humanDuration };

/** "5 seconds ago" for a unix timestamp in seconds (the API's `Created`). */
export function timeAgo(unixSeconds: number, now: number = Date.now()): string {
  return `${humanDuration(Math.max(0, now - unixSeconds * 1000))} ago`;
}

/** docker's `CreatedAt` in `--format json`: "2006-01-02 15:04:05 -0700 MST" in UTC. */
export function goTimestamp(unixSeconds: number): string {
  const iso = new Date(unixSeconds * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}
