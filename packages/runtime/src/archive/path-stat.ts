import type { BigIntStats } from 'node:fs';

/** The stat Docker sends (base64 JSON) in `X-Docker-Container-Path-Stat`. */
export interface ContainerPathStat {
  name: string;
  size: number;
  /** Go's os.FileMode: permission bits plus Go's own type and special bits (not the kernel's S_IF*). */
  mode: number;
  /** RFC 3339 with nanoseconds, as Go marshals a time.Time. */
  mtime: string;
  /** For a symlink: its target resolved inside the container (absolute); '' otherwise. */
  linkTarget: string;
}

// Go's os.FileMode bits (io/fs): the CLI decodes the mode with them.
const GO_MODE_DIR = 2 ** 31;
export const GO_MODE_SYMLINK = 2 ** 27;
const GO_MODE_DEVICE = 2 ** 26;
const GO_MODE_NAMED_PIPE = 2 ** 25;
const GO_MODE_SOCKET = 2 ** 24;
const GO_MODE_SETUID = 2 ** 23;
const GO_MODE_SETGID = 2 ** 22;
const GO_MODE_CHAR_DEVICE = 2 ** 21;
const GO_MODE_STICKY = 2 ** 20;

/** A kernel stat's mode as Go's os.FileMode. */
export function goFileMode(st: BigIntStats): number {
  const mode = Number(st.mode);
  let out = mode & 0o777;
  if (st.isDirectory()) out += GO_MODE_DIR;
  else if (st.isSymbolicLink()) out += GO_MODE_SYMLINK;
  else if (st.isBlockDevice()) out += GO_MODE_DEVICE;
  else if (st.isCharacterDevice()) out += GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE;
  else if (st.isFIFO()) out += GO_MODE_NAMED_PIPE;
  else if (st.isSocket()) out += GO_MODE_SOCKET;
  if (mode & 0o4000) out += GO_MODE_SETUID;
  if (mode & 0o2000) out += GO_MODE_SETGID;
  if (mode & 0o1000) out += GO_MODE_STICKY;
  return out;
}

/** Go's time.Time JSON (RFC 3339, nanoseconds with trailing zeros trimmed, UTC as Z). */
export function goTime(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (frac === 0n) return `${base}Z`;
  return `${base}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

export function pathStat(name: string, st: BigIntStats, linkTarget: string): ContainerPathStat {
  return { name, size: Number(st.size), mode: goFileMode(st), mtime: goTime(st.mtimeNs), linkTarget };
}

/** The header value: base64 of the JSON, as Docker encodes it. */
export function encodePathStat(stat: ContainerPathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}
