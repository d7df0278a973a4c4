/**
 * What the load tests measure about the test process itself and about
 * berth's own mount namespace: open fds, resident memory, and the mount
 * table berth's namespace holds (which the host's mountinfo cannot show).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { PrivateMountNamespace } from '@berth/syscall';

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

export function rssMiB(): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Number(kb ?? 0) / 1024;
}

/**
 * berth's namespace's mount table, read from inside it on this thread
 * (`run` is synchronous and readFileSync stays on the calling thread).
 */
export function namespaceMountTable(ns: PrivateMountNamespace): string {
  return ns.run(() => readFileSync('/proc/thread-self/mountinfo', 'utf8'));
}

export function existing(paths: readonly string[]): string[] {
  return paths.filter((p) => existsSync(p));
}
