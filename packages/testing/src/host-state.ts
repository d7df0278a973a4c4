/**
 * What a test must leave as it found it: the host's mount table, berth's
 * cgroups under this process's own cgroups, container processes, and the
 * sentinel files hostile inputs aim at.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseMountinfo, processStartTime } from '@berth/syscall';
import { runningNetnsHolders } from '@berth/runtime';

export function hostMountTable(): string {
  return readFileSync('/proc/self/mountinfo', 'utf8');
}

/**
 * The mount table without the reference dockerd's mounts (`docker-ref`: the
 * Docker that work on this machine compares against mounts and unmounts on
 * its own), for tests that may run beside it.
 */
export function ownMountTable(): string {
  return hostMountTable().split('\n').filter((l) => !l.includes('docker-ref')).join('\n');
}

/** Mount points (field 5 of mountinfo) at or below `dir`, in this process's namespace. */
export function mountsUnder(dir: string): string[] {
  return parseMountinfo(hostMountTable()).map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(`${dir}/`));
}

/**
 * Every directory below a `berth/` cgroup under this process's cgroups, in
 * every hierarchy (v1 controllers and v2). A child process (the daemon)
 * starts in the same cgroups, so its containers' cgroups land here.
 */
export function berthCgroups(): string[] {
  const self = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) self.set(m[1] ?? '', m[2] ?? '/');
  }
  const out: string[] = [];
  for (const { fstype, superOptions: superOpts, root: mountRoot, mountPoint } of parseMountinfo(hostMountTable())) {
    let key: string | undefined;
    if (fstype === 'cgroup2') key = '';
    else if (fstype === 'cgroup') key = [...self.keys()].find((k) => k !== '' && k.split(',').every((c) => superOpts.split(',').includes(c)));
    if (key === undefined) continue;
    const path = self.get(key) ?? '/';
    const rel = mountRoot !== '/' && path.startsWith(mountRoot) ? path.slice(mountRoot.length) : path;
    const dir = posix.join(mountPoint, rel, 'berth');
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(join(dir, e.name));
  }
  return out.sort();
}

/** Field 22 of /proc/PID/stat (start time in ticks), or undefined when the process is gone: @berth/syscall's reader. */
export const startTimeOf = processStartTime;

export function openFdCount(pid: number | 'self' = 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export function rssBytes(pid: number | 'self' = 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}

/**
 * A fingerprint of each path: type, mode, owner, size, content hash (files),
 * target (symlinks), and the sorted names of directories. Anything an escape
 * could change shows up as a difference.
 */
export function fingerprint(paths: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of paths) {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) {
      out[p] = 'absent';
    } else if (st.isSymbolicLink()) {
      out[p] = `link ${readlinkSync(p)}`;
    } else if (st.isDirectory()) {
      out[p] = `dir ${st.mode.toString(8)} ${st.uid}:${st.gid} [${readdirSync(p).sort().join(',')}]`;
    } else {
      const hash = st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : '-';
      out[p] = `file ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.nlink} ${hash}`;
    }
  }
  return out;
}

/** Lines added to or removed from the mount table since `before` (empty when identical). */
export function mountTableChanges(before: string, after = hostMountTable()): string[] {
  const b = before.split('\n');
  const a = after.split('\n');
  return [...a.filter((l) => !b.includes(l)).map((l) => `+ ${l}`), ...b.filter((l) => !a.includes(l)).map((l) => `- ${l}`)];
}

/**
 * The container shims of one berth root: processes whose command line is
 * "berth-shim ID" (the shim rewrites its arguments) and whose status file
 * (fd 4) lies under `root`. Returns their pids and container ids. (A
 * shim's child is the container's PID 1; an exec's shim has no ID.)
 */
export function containerInits(root: string): { pid: number; id: string }[] {
  const out: { pid: number; id: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const id = /^berth-shim\0([0-9a-f]{64})\0/.exec(readFileSync(`/proc/${name}/cmdline`, 'latin1'))?.[1];
      if (id && readlinkSync(`/proc/${name}/fd/4`).startsWith(`${root}/`) && startTimeOf(Number(name)) !== undefined) out.push({ pid: Number(name), id });
    } catch { /* gone, or not ours to read */ }
  }
  return out;
}

/** Parked sandboxes (`berth-sandbox`, see @berth/runtime's sandbox.ts) of the berth root `root`: their cwd is their spare layer's mount point. */
export function parkedSandboxes(root: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').startsWith('berth-sandbox\0') && readlinkSync(`/proc/${name}/cwd`).startsWith(`${root}/`)) out.push(Number(name));
    } catch { /* gone, or not ours to read */ }
  }
  return out;
}

/** The processes holding bridge containers' network namespaces (`berth-netns ID`, see @berth/runtime), with their container ids. */
export function netnsHolders(): { pid: number; id: string }[] {
  return runningNetnsHolders().map(({ pid, id }) => ({ pid, id }));
}
