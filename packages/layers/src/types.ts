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
}

export type Driver = 'overlay' | 'vfs';

export interface OpenOptions {
  syscalls: Syscalls;
  /** `overlay` (default) shares layers through overlayfs; `vfs` gives each container a full copy. */
  driver?: Driver;
}

export interface ImportProgress {
  /** 0-based index of the layer in the image, bottom first. */
  layer: number;
  layers: number;
  /** The layer's diffID when known (`sha256:<hex>`). */
  diffId?: string;
  bytesDone: number;
  bytesTotal: number;
  /** `extract`: unpacking; `exists`: already stored, verified only. */
  phase: 'extract' | 'exists';
}

export interface ImportOptions {
  /** `name[:tag]` to give the imported image (required to name a plain rootfs tar). */
  tag?: string;
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
