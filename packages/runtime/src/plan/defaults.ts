// Docker's defaults (moby oci/defaults.go, oci/caps/defaults.go, runc's
// default devices), as data.

import {
  MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_STRICTATIME,
} from '@berth/syscall';
import type { CapabilitySet, DeviceNode, DevSubMount } from './types.js';

/** Docker's PATH when neither the image nor the container sets one. */
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/** Capability numbers from linux/capability.h. */
const CAPABILITY_NUMBERS: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_FSETID: 4,
  CAP_FOWNER: 3,
  CAP_MKNOD: 27,
  CAP_NET_RAW: 13,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETFCAP: 31,
  CAP_SETPCAP: 8,
  CAP_NET_BIND_SERVICE: 10,
  CAP_SYS_CHROOT: 18,
  CAP_KILL: 5,
  CAP_AUDIT_WRITE: 29,
};

/** Docker's default capability set, in Docker's order. */
export function defaultCapabilities(): CapabilitySet {
  const names = Object.keys(CAPABILITY_NUMBERS);
  const numbers = names.map((n) => CAPABILITY_NUMBERS[n] ?? 0);
  // 2**n rather than 1 << n: bit 31 would make a negative number.
  const mask = numbers.reduce((acc, n) => acc + 2 ** n, 0);
  return { names, numbers, mask };
}

/** runc's default devices: all 0666 char devices owned by root. */
export function defaultDevices(): DeviceNode[] {
  const dev = (name: string, major: number, minor: number): DeviceNode => ({ name, major, minor, mode: 0o666, uid: 0, gid: 0 });
  return [dev('null', 1, 3), dev('zero', 1, 5), dev('full', 1, 7), dev('random', 1, 8), dev('urandom', 1, 9), dev('tty', 5, 0)];
}

/** Docker's /dev tmpfs. */
export const DEV_TMPFS = { flags: MS_NOSUID | MS_STRICTATIME, data: 'mode=755,size=65536k' } as const;

/** Docker's mounts below /dev; `shmSize` in bytes (0: Docker's 64 MiB, `size=65536k`). */
export function defaultDevMounts(shmSize = 0): DevSubMount[] {
  return [
    { name: 'pts', fstype: 'devpts', flags: MS_NOSUID | MS_NOEXEC, data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' },
    { name: 'shm', fstype: 'tmpfs', flags: MS_NOSUID | MS_NOEXEC | MS_NODEV, data: `mode=1777,size=${shmSize > 0 ? shmSize : '65536k'}` },
    { name: 'mqueue', fstype: 'mqueue', flags: MS_NOSUID | MS_NOEXEC | MS_NODEV, data: null },
  ];
}

/** runc's /dev symlinks. */
export function defaultDevSymlinks(): Array<{ name: string; target: string }> {
  return [
    { name: 'ptmx', target: 'pts/ptmx' },
    { name: 'fd', target: '/proc/self/fd' },
    { name: 'stdin', target: '/proc/self/fd/0' },
    { name: 'stdout', target: '/proc/self/fd/1' },
    { name: 'stderr', target: '/proc/self/fd/2' },
  ];
}

export const SYSFS_FLAGS = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
export const PROC_FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC;
