/**
 * @berth/layers: the layer store. Unpacked image layers shared between
 * images, image metadata and tags, and each container's writable layer,
 * with the container's root filesystem returned as a mount (data), never
 * mounted here.
 *
 * ```ts
 * import { LinuxSyscalls } from '@berth/syscall';
 * import { LayerStore } from '@berth/layers';
 * const store = LayerStore.open('/var/lib/berth', { syscalls: new LinuxSyscalls() });
 * await store.importImage('busybox.tar', { tag: 'busybox' });
 * const layout = store.prepareContainer('c1', 'busybox');
 * // layout.rootfs: { type: 'overlay', source: 'overlay', target: '.../c1/mnt', options: [...] }
 * ```
 */
export { LayerStore, MOUNT_OPTIONS_LIMIT } from './store.js';
export { Trash, trashThreadsStarted } from './trash.js';
export { ingestWorkerCounts, setIdleWorkerExitMs } from './worker/offload.js';
export type {
  CommitOptions, ContainerLayout, DiskUsage, Driver, ImageConfig, ImageRecord, ImportOptions, ImportProgress, ImportResult, Mount,
  OpenOptions, ReconcileReport, RemoveImageResult,
} from './types.js';
export {
  AmbiguousImageError, ContainerBusyError, ContainerExistsError, DigestMismatchError, ImageConflictError, ImageInUseError,
  InvalidArchiveError, InvalidReferenceError, LayerStoreError, LowerdirTooLongError, NoSuchContainerError, NoSuchImageError,
  RegistryError, UnsafeEntryError, UnsupportedCompressionError,
} from './errors.js';
export { pullImage, distributionInfo, hostPlatform, parsePlatform, MEDIA, type DistributionInfo, type Platform, type PullEvent, type PullOptions, type PullStatus } from './registry/pull.js';
export { pushImage, type PushEvent, type PushOptions } from './registry/push.js';
export { RegistryClient, parseChallenge, type Credentials } from './registry/client.js';
export { parseRegistryRef, familiarName, formatRef, authKey, registryDomain, type RegistryRef } from './registry/reference.js';
export { isInsecure, type TransportOptions } from './registry/transport.js';
export { chainIds, normalizeTag } from './refs.js';
export type { ArchiveFormat } from './archive.js';
export { overlayChanges, CHANGE_ADD, CHANGE_DELETE, CHANGE_MODIFY, type Change } from './changes.js';
