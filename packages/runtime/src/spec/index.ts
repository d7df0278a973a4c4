/**
 * Mount specifications: Docker's `-v`, `--mount`, `--tmpfs`, `--volumes-from`
 * and `--read-only`, and the same information as Docker API fields, parsed
 * into plain `MountSpec` data with Docker's verbatim errors.
 */
export type {
  ApiBindOptions, ApiHostConfigMounts, ApiMount, ApiMountFields, ApiTmpfsOptions, ApiVolumeOptions,
  BindRecursive, CliMountFlags, MountSpec, MountType, Propagation, ResolveOptions,
} from './types.js';
export { cliToApiFields, resolveMounts, type CliApiFields } from './resolve.js';
export { parseMountFlag, parseTmpfsFlag, parseVolumeFlag, type ParsedVolumeFlag } from './cli-flags.js';
export { parseBind, parseVolumesFrom, validMountMode } from './daemon-parse.js';
export {
  effectiveTmpfsOptions, formatTmpfsSize, mergeTmpfsOptions, TMPFS_DEFAULT_OPTIONS,
} from './tmpfs-options.js';
export { goPathClean, humanDuration, ramInBytes } from './go-compat.js';
