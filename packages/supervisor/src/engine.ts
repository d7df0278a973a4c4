/**
 * What the supervisor consumes from the other packages, as interfaces so the
 * dependency is explicit and the lifecycle and API layers can be driven by a
 * small fake in unit tests. The real implementations are `Runtime`
 * (@berth/runtime), `LayerStore` (@berth/layers) and `VolumeStore`
 * (@berth/volumes); `Supervisor.start` wires them.
 *
 * The launch contract types are `@berth/runtime`'s own.
 */
import type { Credentials, DistributionInfo, ImageConfig, ImageRecord, Platform, PullEvent, PushEvent } from '@berth/layers';
import type { Volume } from '@berth/volumes';
import type {
  ArchiveTarget, CgroupLimits, ContainerPathStat, ContainerSample, ExtractOptions,
} from '@berth/runtime';
import type {
  ContainerConfig, ContainerSpec, CreateOptions, CreateRequest, ExecRequest, ExitStatus, HostConfig, MountPoint, MountSpec,
  StartRequest, StartedContainer, StartedExec, StdioFds,
} from '@berth/runtime';

export type {
  ContainerConfig, ContainerSpec, CreateOptions, CreateRequest, ExecRequest, ExitStatus, HostConfig, MountPoint, MountSpec,
  StartRequest, StartedContainer, StartedExec, StdioFds,
};

/** The launcher: `Runtime` from @berth/runtime. */
export interface ContainerEngine {
  /**
   * `docker create`: resolves a checked request into the container's record
   * and makes what it names exist (volumes created and referenced). Throws
   * the user-facing errors (mount specs, unsupported fields, no command).
   */
  create(req: CreateRequest, options: CreateOptions): ContainerSpec;
  /** Docker's `Mounts` (inspect, ps) of a container's resolved mounts. */
  mountPoints(mounts: readonly MountSpec[]): MountPoint[];
  start(req: StartRequest): Promise<StartedContainer>;
  /** `docker exec`: one more process in a running container. */
  exec(req: ExecRequest): Promise<StartedExec>;
  /** The status line a container's init left behind, for containers that exited while nobody watched. */
  readStatus(statusPath: string): ExitStatus | undefined;
  /**
   * Releases what a removed container held. With `waitForDeletion: false` it may return before its
   * directories are deleted from disk (they are out of sight, and `close` waits for them).
   */
  cleanup(id: string, opts: { removeAnonymousVolumes: boolean; anonymousVolumes?: readonly string[]; waitForDeletion?: boolean }): void | Promise<void>;
  /** The PID 1 of a start that was never acknowledged (the supervisor died mid-start), from its shim's status file. */
  strayInits?(statusPath: string): number[];
  /**
   * Removes an exited container's cgroup (a no-op when it has none). A launch's own watch does
   * this; a container re-adopted by a restarted supervisor, or one that exited while none ran, has
   * no such watch.
   */
  releaseCgroup?(id: string): void;
  close(): Promise<void>;
  /** `docker stats`: one reading of a container's cgroup (and of `netPid`'s network namespace). */
  stats?(id: string, netPid?: number): ContainerSample;
  /** `docker pause`/`unpause` through the freezer; `isPaused` asks the kernel. */
  pause?(id: string): Promise<void>;
  unpause?(id: string): Promise<void>;
  isPaused?(id: string): boolean;
  /** `docker update` of a running container's cgroup (limits from `resourceLimits`). */
  updateLimits?(id: string, limits: CgroupLimits): void;
  /** `docker cp` and the archive endpoints (`Runtime.files`); absent in engines that cannot see files. */
  files?: ContainerFilesView;
}

/** The file side of a container (`ContainerFiles` of @berth/runtime). */
export interface ContainerFilesView {
  stat(t: ArchiveTarget, path: string): Promise<ContainerPathStat>;
  archive(t: ArchiveTarget, path: string): Promise<{ stat: ContainerPathStat; stream: NodeJS.ReadableStream }>;
  extract(t: ArchiveTarget, path: string, input: NodeJS.ReadableStream, opts: ExtractOptions): Promise<void>;
  exportRootfs(t: ArchiveTarget): Promise<NodeJS.ReadableStream>;
}
export type { ArchiveTarget, ContainerPathStat, ExtractOptions };

/** The image config fields the supervisor reads (Docker's `Config`). */
/** The layer store's image shapes. */
export type ImageConfigView = ImageConfig;
export type ImageView = ImageRecord;

/** The image side of `LayerStore` from @berth/layers. */
export interface ImageService {
  /** `format`: `archive` for `docker load`, `rootfs` for `docker import`, `auto` to decide by the first entry. */
  importImage(source: string | NodeJS.ReadableStream, opts?: { tag?: string; format?: 'archive' | 'rootfs' | 'auto' }): Promise<{ images: ImageView[] }>;
  /** `docker pull` (`LayerStore.pull`). */
  pull?(ref: string, opts: { platform?: Platform; credentials?: Credentials; onEvent?: (e: PullEvent) => void }): Promise<ImageView>;
  /** `docker save` (`LayerStore.save`): rejects before streaming when an image cannot be saved. */
  save?(refs: readonly string[]): NodeJS.ReadableStream | Promise<NodeJS.ReadableStream>;
  /** `docker push` (`LayerStore.push`). */
  push?(ref: string, opts: { credentials?: Credentials; onEvent?: (e: PushEvent) => void }): Promise<{ digest: string; size: number }>;
  /** `docker login`: throws REGISTRY_UNAUTHORIZED when the registry refuses the credentials. */
  login?(serverAddress: string, creds: Credentials): Promise<void>;
  /** `docker history` rows, newest first (`LayerStore.history`). */
  history?(ref: string): unknown[];
  /** `docker image prune` (`LayerStore.pruneImages`): images no container uses that `select` picks. */
  pruneImages?(select: (image: ImageView) => boolean): { deleted: { Untagged?: string; Deleted?: string }[]; reclaimed: number };
  /** `GET /distribution/{name}/json` (`LayerStore.distribution`). */
  distribution?(ref: string, credentials?: Credentials): Promise<DistributionInfo>;
  listImages(): ImageView[] | Promise<ImageView[]>;
  /** Throws `No such image: X` (code NO_SUCH_IMAGE) when unknown. */
  inspectImage(ref: string): ImageView | Promise<ImageView>;
  removeImage(ref: string, opts?: { force?: boolean }): { untagged: string[]; deleted: string[] } | Promise<{ untagged: string[]; deleted: string[] }>;
  /** Points `tag` (`name[:tag]`) at the image `ref` names, moving it off any other image. */
  tagImage(ref: string, tag: string): void | Promise<void>;
  /** `LayerStore.diskUsage()`: `{ layers: { count, bytes }, ... }`; layers shared by images counted once. */
  diskUsage?(): unknown;
  /** `LayerStore.changes()`: `docker diff` from the container's upper directory. */
  changes?(containerId: string): { Path: string; Kind: number }[];
  /** `LayerStore.commitContainer()`: the container's writable layer as a new image. */
  commitContainer?(containerId: string, opts: { config: Record<string, unknown>; tag?: string; author?: string; comment?: string; createdBy?: string; image?: string }): Promise<ImageView>;
}

/** Docker's Volume shape (the volume store's), with `system df`'s usage. */
export type VolumeView = Volume & { UsageData?: { Size: number; RefCount: number } | null };

export interface VolumeListFilters {
  dangling?: boolean;
  name?: readonly string[];
  label?: readonly string[];
  driver?: readonly string[];
}

export interface VolumePruneFilters {
  label?: readonly string[];
  'label!'?: readonly string[];
}

/** `VolumeStore` from @berth/volumes. Errors carry `.code` (NotFound, InUse, InvalidName...). */
export interface VolumeService {
  create(opts: { name?: string; driver?: string; labels?: Record<string, string>; options?: Record<string, string> }): VolumeView | Promise<VolumeView>;
  inspect(name: string): VolumeView | Promise<VolumeView>;
  list(filters?: VolumeListFilters): VolumeView[] | Promise<VolumeView[]>;
  remove(name: string, opts?: { force?: boolean }): void | Promise<void>;
  prune(opts: { all?: boolean; filters?: VolumePruneFilters }): { VolumesDeleted: string[]; SpaceReclaimed: number } | Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }>;
  /** `VolumeStore.usage()`: `{ name, size, refCount }[]`, size in bytes (one walk per volume). */
  usage?(): unknown;
  /** Ids of the containers holding a reference to the volume. */
  usedBy?(name: string): string[];
  reconcileReferences?(liveIds: ReadonlySet<string>): unknown;
  /** berth's extensions (`/berth/volumes/...`): a volume's content as a tar stream, filled from one, copied. */
  exportTar?(name: string): NodeJS.ReadableStream;
  importTar?(name: string, archive: NodeJS.ReadableStream): Promise<unknown>;
  clone?(source: string, target: string): VolumeView | Promise<VolumeView>;
}
