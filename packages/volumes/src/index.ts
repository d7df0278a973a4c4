/**
 * @berth/volumes: Docker's local volume driver for berth.
 *
 * ```ts
 * import { LinuxSyscalls } from '@berth/syscall';
 * import { VolumeStore } from '@berth/volumes';
 * const store = VolumeStore.open('/var/lib/berth', { syscalls: new LinuxSyscalls() });
 * const v = store.create({ name: 'data' });
 * const { dataDir } = store.acquire('data', containerId); // bind dataDir into the container
 * store.release('data', containerId);
 * ```
 */
export { VolumeStore, type VolumeStoreOptions } from './store.js';
export type {
  AcquiredVolume, CreateVolumeOptions, ImportReport, PruneFilters, PruneOptions, PruneReport, ReconcileReport,
  ReleasedReference, Volume, VolumeFilters, VolumeUsage,
} from './types.js';
export {
  InvalidArchiveError, InvalidSubpathError, InvalidVolumeNameError, InvalidVolumeOptionError, NoMountNamespaceError,
  SubpathNotFoundError, UnsafePathError, VolumeError, VolumeInUseError, VolumeMountError, VolumeNotEmptyError,
  VolumeNotFoundError, isVolumeError, type VolumeErrorCode,
} from './errors.js';
export { ANONYMOUS_LABEL, RESTRICTED_NAME_CHARS, anonymousVolumeName, looksAnonymous, validateVolumeName } from './names.js';
export {
  hasMountOptions, mountPlanFor, parseMountOptions, validateDriverOptions, type VolumeMountPlan,
} from './driver-options.js';
export { copyTree } from './copy-tree.js';
export { isEmptyDir, treeSize } from './fs-safe.js';
export { checkSubpath, resolveSubpath, type ResolvedSubpath } from './subpath.js';
export { SCHEMA_VERSION } from './metadata.js';
export type { TrashFailure } from './trash.js';
