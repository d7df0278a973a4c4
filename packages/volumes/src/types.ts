/** Docker's Volume JSON shape (`docker volume inspect`), field for field. */
export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  /** RFC 3339, seconds precision, UTC. */
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string>;
}

/** `volume ls` filters. Several values of one key: name/driver match any, label must match all. */
export interface VolumeFilters {
  dangling?: boolean;
  /** The name, or an unanchored regular expression that finds it (moby's filters.Args.Match). */
  name?: string | readonly string[];
  /** `key` or `key=value`. */
  label?: string | readonly string[];
  driver?: string | readonly string[];
}

export interface PruneFilters {
  label?: string | readonly string[];
  'label!'?: string | readonly string[];
}

export interface PruneOptions {
  /** Also remove unused named volumes (Docker's `prune --all`). */
  all?: boolean;
  filters?: PruneFilters;
}

/** Docker's `/volumes/prune` answer. */
export interface PruneReport {
  VolumesDeleted: string[];
  SpaceReclaimed: number;
}

export interface CreateVolumeOptions {
  /** Omitted or empty: an anonymous volume (64 hex characters, anonymous label). */
  name?: string;
  driver?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

export interface AcquiredVolume {
  name: string;
  /** Host path of the data to bind into the container (`Mountpoint`). */
  dataDir: string;
  /** References after this acquire. */
  refCount: number;
  /** True when the volume's own filesystem (type/device/o) lives in berth's mount namespace. */
  driverMounted: boolean;
  options: Record<string, string>;
}

export interface VolumeUsage {
  name: string;
  /** Bytes, counted as `system df -v` does (hardlinks once). */
  size: number;
  refCount: number;
}

/** What `open`/`reconcile` found where metadata and directories disagreed. */
export interface ReconcileReport {
  /** Leftover temporary directories of crashed creates/removes/imports, removed. */
  tempsRemoved: string[];
  /** Volume directories without metadata (a crash between rename and commit), registered again. */
  adopted: string[];
  /** Directories that are not volumes berth can adopt; reported, never deleted. */
  orphans: string[];
  /** Metadata whose directory is gone; the metadata was dropped (there was no data to lose). */
  missingData: string[];
  /** Volumes moved to the trash by a removal that never committed (a crash), put back. Absent when none. */
  restored?: string[];
  /** Trash batches left by a process that is gone, claimed and being emptied off the open. Absent when none. */
  trashEmptied?: string[];
  /** Why the reconcile could not run (the disk was full); it runs again at the next open. */
  skipped?: string;
}

export interface ImportReport {
  volume: Volume;
  created: boolean;
  entries: number;
}

export interface ReleasedReference {
  volume: string;
  container: string;
}
