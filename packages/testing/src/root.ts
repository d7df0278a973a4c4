import { spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { describe } from 'vitest';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A describe block that runs only as root, and says so when it skips. */
export function describeRoot(name: string, fn: () => void): void {
  if (!isRoot) {
    console.warn(`[root tests] skipping "${name}": not running as root (CI runs these as root)`);
  }
  describe.skipIf(!isRoot)(name, fn);
}

/**
 * The host's network state a test must leave as it found it: iptables
 * (filter and nat), the links (names only: counters and flags move by
 * themselves), and `/run/netns`. Compare before and after, beside the
 * mount table. The reference dockerd's own rules and veths (its `DOCKER*`
 * chains, links on `docker0`) are left out: other users of that daemon
 * change them at any time.
 */
export function hostNetworkState(): { iptables: string; nat: string; links: string[]; netns: string[] } {
  const run = (args: string[]): string => {
    const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) return `failed: ${r.stderr}`;
    return r.stdout.split('\n').filter((l) => !/DOCKER|docker0/.test(l)).join('\n');
  };
  const masterOf = (link: string): string => {
    try { return readlinkSync(`/sys/class/net/${link}/master`).split('/').pop() ?? ''; } catch { return ''; }
  };
  let netns: string[] = [];
  try { netns = readdirSync('/run/netns').sort(); } catch { /* absent is the usual state */ }
  return {
    iptables: run(['iptables', '-S']),
    nat: run(['iptables', '-t', 'nat', '-S']),
    links: readdirSync('/sys/class/net').filter((l) => masterOf(l) !== 'docker0').sort(),
    netns,
  };
}
