/**
 * Device access as data: the device cgroup rules a container gets (Docker's
 * defaults, `--device`, `--device-cgroup-rule`, `--privileged`) and the
 * device nodes made in its /dev. Pure; the host's device nodes come in
 * through a `HostDevices` the caller provides.
 */
import { PlanError } from '../errors.js';

export type DeviceType = 'c' | 'b';

/** One device cgroup rule, as the v1 `devices.allow`/`devices.deny` files and the v2 eBPF program take it. */
export interface DeviceRule {
  allow: boolean;
  /** 'a' matches every device (both types, every number). */
  type: DeviceType | 'a';
  /** A number, or '*' for any. */
  major: number | '*';
  minor: number | '*';
  /** A non-empty subset of "rwm", in that order. */
  access: string;
}

/** A device node on the host, as stat(2) shows it. */
export interface HostDevice {
  /** Absolute host path. */
  path: string;
  type: DeviceType;
  major: number;
  minor: number;
  /** Permission bits (no S_IF* type bits). */
  mode: number;
  uid: number;
  gid: number;
}

/** A device node the executor makes in the container (beyond the default /dev), with its cgroup access. */
export interface PlannedDevice {
  /** Absolute path inside the container; resolved inside the root. */
  path: string;
  type: DeviceType;
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
}

/**
 * Where the host's device nodes are read from. `at` follows a symlink (as
 * Docker does for `--device`) and lists every node below a directory; it
 * throws an Error whose message is the cause (`no such file or directory`,
 * `not a device node`). `all` is every node under the host's /dev, as
 * runc's HostDevices finds them for `--privileged`.
 */
export interface HostDevices {
  at(path: string): HostDevice[];
  all(): HostDevice[];
}

/** Docker's `DeviceMapping` (`--device HOST[:CONTAINER[:PERMS]]`). */
export interface DeviceMapping {
  PathOnHost?: string | null;
  PathInContainer?: string | null;
  CgroupPermissions?: string | null;
}

const any = '*' as const;
const rule = (type: DeviceType | 'a', major: number | '*', minor: number | '*', access: string, allow = true): DeviceRule =>
  ({ allow, type, major, minor, access });

/**
 * Docker's default device cgroup: deny everything, then runc's allowed
 * list. `m` on every device lets mknod succeed (images ship nodes) while
 * opening one stays refused unless listed. Checked against Docker 20.10's
 * `devices.list`: b *:* m, c *:* m, 1:3, 1:5, 1:7, 1:8, 1:9, 5:0, 5:1, 5:2,
 * 10:200, 136:*, all rwm.
 */
export function defaultDeviceRules(): DeviceRule[] {
  return [
    rule('a', any, any, 'rwm', false),
    rule('c', any, any, 'm'),
    rule('b', any, any, 'm'),
    rule('c', 1, 3, 'rwm'), // null
    rule('c', 1, 8, 'rwm'), // random
    rule('c', 1, 7, 'rwm'), // full
    rule('c', 5, 0, 'rwm'), // tty
    rule('c', 1, 5, 'rwm'), // zero
    rule('c', 1, 9, 'rwm'), // urandom
    rule('c', 5, 1, 'rwm'), // console
    rule('c', 136, any, 'rwm'), // pts
    rule('c', 5, 2, 'rwm'), // ptmx
    rule('c', 10, 200, 'rwm'), // tun
  ];
}

/** `--privileged`: every device, every access. */
export function privilegedDeviceRules(): DeviceRule[] {
  return [rule('a', any, any, 'rwm')];
}

// moby oci/devices_linux.go.
const CGROUP_RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/** A `--device-cgroup-rule` (`HostConfig.DeviceCgroupRules` entry), with Docker's error text. */
export function parseDeviceCgroupRule(text: string): DeviceRule {
  const m = CGROUP_RULE.exec(text);
  if (!m) throw new PlanError('invalid-config', `invalid device cgroup rule format: '${text}'`);
  const num = (s: string): number | '*' => (s === '*' ? '*' : Number(s));
  return rule(m[1] as DeviceType | 'a', num(m[2]!), num(m[3]!), normaliseAccess(m[4]!));
}

/** "mwr" -> "rwm"; Docker's rule regex allows repeats, the kernel takes the set. */
function normaliseAccess(access: string): string {
  return ['r', 'w', 'm'].filter((c) => access.includes(c)).join('');
}

/** The docker CLI's `validDeviceMode`: a non-empty subset of r, w, m, each at most once. */
function validDeviceMode(mode: string): boolean {
  if (mode === '') return false;
  const seen = new Set<string>();
  for (const c of mode) {
    if (!'rwm'.includes(c) || seen.has(c)) return false;
    seen.add(c);
  }
  return true;
}

/**
 * `--device`: the nodes to make and their rules, as moby's `DevicesFromPath`
 * does it: a device node maps to one node; a directory maps every node below
 * it, keeping the relative paths under `PathInContainer`.
 */
export function planDeviceMappings(mappings: readonly DeviceMapping[], host: HostDevices | undefined): { devices: PlannedDevice[]; rules: DeviceRule[] } {
  const devices: PlannedDevice[] = [];
  const rules: DeviceRule[] = [];
  for (const mapping of mappings) {
    const onHost = mapping.PathOnHost ?? '';
    const inContainer = mapping.PathInContainer || onHost;
    const permissions = mapping.CgroupPermissions || 'rwm';
    if (!validDeviceMode(permissions)) throw new PlanError('invalid-config', `invalid device mode: ${permissions}`);
    if (onHost === '') throw new PlanError('invalid-config', 'invalid device mapping: PathOnHost is empty');
    if (!host) throw new PlanError('invalid-config', `error gathering device information while adding custom device "${onHost}": the host's devices were not given to the planner`);
    let found: HostDevice[];
    try {
      found = host.at(onHost);
    } catch (error) {
      const cause = error instanceof Error ? error.message : String(error);
      throw new PlanError('invalid-config', `error gathering device information while adding custom device "${onHost}": ${cause}`);
    }
    for (const dev of found) {
      const rel = dev.path === onHost ? '' : dev.path.slice(onHost.replace(/\/+$/, '').length);
      devices.push({ ...withoutPath(dev), path: inContainer.replace(/\/+$/, '') + rel || inContainer });
      rules.push(rule(dev.type, dev.major, dev.minor, normaliseAccess(permissions)));
    }
  }
  return { devices, rules };
}

function withoutPath(dev: HostDevice): Omit<PlannedDevice, 'path'> {
  return { type: dev.type, major: dev.major, minor: dev.minor, mode: dev.mode, uid: dev.uid, gid: dev.gid };
}

/** `--privileged`: every host device node, at its host path. */
export function privilegedDevices(host: HostDevices | undefined): PlannedDevice[] {
  if (!host) throw new PlanError('invalid-config', "failed to plan a privileged container: the host's devices were not given to the planner");
  return host.all().map((dev) => ({ ...withoutPath(dev), path: dev.path }));
}

/**
 * A rule as the v1 `devices.allow`/`devices.deny` files take it: `c 1:3 rwm`.
 * The kernel reads any rule of type `a` as "every device" whatever follows,
 * so one is written as that.
 */
export function deviceRuleLine(r: DeviceRule): string {
  if (r.type === 'a') return 'a';
  return `${r.type} ${r.major}:${r.minor} ${r.access}`;
}
