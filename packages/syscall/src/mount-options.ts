/**
 * The words of a mount option list (`-o ro,nosuid,size=1m`) that are
 * mount(2) flags, as moby/sys/mount's parseOptions knows them; every other
 * word is filesystem data. One table for every package that splits options
 * (tmpfs mounts of containers, driver-option volumes).
 */
import {
  MS_BIND, MS_DIRSYNC, MS_MANDLOCK, MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY,
  MS_REC, MS_RELATIME, MS_REMOUNT, MS_SHARED, MS_SLAVE, MS_STRICTATIME, MS_SYNCHRONOUS, MS_UNBINDABLE,
} from './constants.js';

/** A flag word: the MS_* bits it sets, or clears (`rw` clears MS_RDONLY). */
export interface MountOptionFlag {
  flag: number;
  clear: boolean;
}

export const MOUNT_OPTION_FLAGS: Readonly<Record<string, MountOptionFlag>> = {
  defaults: { flag: 0, clear: false },
  ro: { flag: MS_RDONLY, clear: false }, rw: { flag: MS_RDONLY, clear: true },
  nosuid: { flag: MS_NOSUID, clear: false }, suid: { flag: MS_NOSUID, clear: true },
  nodev: { flag: MS_NODEV, clear: false }, dev: { flag: MS_NODEV, clear: true },
  noexec: { flag: MS_NOEXEC, clear: false }, exec: { flag: MS_NOEXEC, clear: true },
  sync: { flag: MS_SYNCHRONOUS, clear: false }, async: { flag: MS_SYNCHRONOUS, clear: true },
  dirsync: { flag: MS_DIRSYNC, clear: false },
  remount: { flag: MS_REMOUNT, clear: false },
  mand: { flag: MS_MANDLOCK, clear: false }, nomand: { flag: MS_MANDLOCK, clear: true },
  noatime: { flag: MS_NOATIME, clear: false }, atime: { flag: MS_NOATIME, clear: true },
  nodiratime: { flag: MS_NODIRATIME, clear: false }, diratime: { flag: MS_NODIRATIME, clear: true },
  bind: { flag: MS_BIND, clear: false }, rbind: { flag: MS_BIND | MS_REC, clear: false },
  relatime: { flag: MS_RELATIME, clear: false }, norelatime: { flag: MS_RELATIME, clear: true },
  strictatime: { flag: MS_STRICTATIME, clear: false }, nostrictatime: { flag: MS_STRICTATIME, clear: true },
};

/** A propagation word: its MS_* type and whether it applies to submounts too (the `r` forms, MS_REC). */
export interface MountPropagation {
  flag: number;
  recursive: boolean;
}

export const MOUNT_PROPAGATION: Readonly<Record<string, MountPropagation>> = {
  private: { flag: MS_PRIVATE, recursive: false }, rprivate: { flag: MS_PRIVATE, recursive: true },
  shared: { flag: MS_SHARED, recursive: false }, rshared: { flag: MS_SHARED, recursive: true },
  slave: { flag: MS_SLAVE, recursive: false }, rslave: { flag: MS_SLAVE, recursive: true },
  unbindable: { flag: MS_UNBINDABLE, recursive: false }, runbindable: { flag: MS_UNBINDABLE, recursive: true },
};

/** The entry of `table` for `word`, never one of Object.prototype's keys. */
export function mountWord<T>(table: Readonly<Record<string, T>>, word: string): T | undefined {
  return Object.hasOwn(table, word) ? table[word] : undefined;
}
