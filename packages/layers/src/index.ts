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
export { LayerStore, MOUNT_OPTIONS_LIMIT, mountPointsUnder } from './store.js';
export type {
  CommitOptions, ContainerLayout, DiskUsage, Driver, ImageConfig, ImageRecord, ImportOptions, ImportProgress, ImportResult, Mount,
  OpenOptions, ReconcileReport, RemoveImageResult,
} from './types.js';
export {
  AmbiguousImageError, ContainerBusyError, ContainerExistsError, DigestMismatchError, ImageConflictError, ImageInUseError,
  InvalidArchiveError, InvalidReferenceError, LayerStoreError, LowerdirTooLongError, NoSuchContainerError, NoSuchImageError,
  UnsafeEntryError,
} from './errors.js';
export { chainIds, normalizeTag } from './refs.js';
export type { ArchiveFormat } from './archive.js';
export { overlayChanges, CHANGE_ADD, CHANGE_DELETE, CHANGE_MODIFY, type Change } from './changes.js';
