import type { Syscalls } from '@berth/syscall';

/** containerd's "lingua franca": a mount as data, applied by one executor elsewhere. */
export interface Mount {
  type: string;
  source: string;
  target: string;
  options: string[];
}

/** The image config fields berth keeps and exposes (Docker's `Config`). */
export interface ImageConfig {
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Volumes?: Record<string, object>;
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, object>;
  /** Docker's HEALTHCHECK: Test (`["CMD", ...]`, `["CMD-SHELL", cmd]`, `["NONE"]`), durations in nanoseconds. */
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number; StartInterval?: number };
}

export interface ImageRecord {
  /** `sha256:<hex>` of the image config blob. */
  id: string;
  /** Short form, as docker shows them: `busybox:latest`, `me/app:1`. */
  tags: string[];
  config: ImageConfig;
  created: string;
  /** Bytes of file content over all layers. */
  size: number;
  /** Layer ids (hex chain ids), bottom first. */
  layers: string[];
  /** The layers' diffIDs, bottom first (Docker's `RootFS.Layers`). */
  diffIds: string[];
  /** `name@sha256:…` of the manifests the image was pulled by or pushed as. */
  repoDigests: string[];
}

export type Driver = 'overlay' | 'vfs';

export interface OpenOptions {
  syscalls: Syscalls;
  /** `overlay` (default) shares layers through overlayfs; `vfs` gives each container a full copy. */
  driver?: Driver;
  /** Registries spoken to as Docker's `insecure-registries` (`host[:port]` or CIDR), besides 127.0.0.0/8. */
  insecureRegistries?: readonly string[];
  /**
   * Unpack layers (import, load, pull) on a worker thread, so the caller's
   * event loop never blocks on their file writes: a supervisor's does. The
   * worker makes its own `LinuxSyscalls`; the `syscalls` given here are used
   * on the calling thread only, so tests with a recording double leave this off.
   */
  unpackInWorker?: boolean;
}

export interface ImportProgress {
  /** Bytes of the archive read so far. */
  bytesDone: number;
  /** The archive's size, when it is a file. */
  bytesTotal?: number;
}

export interface ImportOptions {
  /** `name[:tag]` to give the imported image (required to name a plain rootfs tar). */
  tag?: string;
  /** `archive` (`docker load`), `rootfs` (`docker import`) or `auto` (the default: decided by the first entry's name). */
  format?: 'archive' | 'rootfs' | 'auto';
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportResult {
  images: ImageRecord[];
}

export interface ContainerLayout {
  dir: string;
  diff: string;
  work: string;
  mnt: string;
  /** What to mount on `mnt` to get the container's root filesystem. */
  rootfs: Mount;
}

export interface RemoveImageResult {
  untagged: string[];
  deleted: string[];
}

export interface ReconcileReport {
  /** Half-made directories (`.tmp-*`, `.del-*`, spool dirs) removed. */
  removedTemporaries: string[];
  /** Directories on disk that no record refers to (removed when asked). */
  orphanLayers: string[];
  orphanContainers: string[];
  /** Records whose directory is missing. */
  missingLayers: string[];
  missingContainers: string[];
}

export interface DiskUsage {
  layers: { count: number; bytes: number };
  images: { count: number; bytes: number };
  containers: { count: number };
}

/** `LayerStore.commitContainer`: the new image's config (already merged and changed by the caller) and its names. */
export interface CommitOptions {
  config: ImageConfig & Record<string, unknown>;
  /** `name[:tag]`; untagged when absent. */
  tag?: string;
  author?: string;
  comment?: string;
  /** The history entry's `created_by` (Docker puts the container's command there). */
  createdBy?: string;
  /** The container's image, for a container whose layout was never prepared (created, never started). */
  image?: string;
}
