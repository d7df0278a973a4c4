/** @berth/cli: the `berth` command, and the pieces other tools may reuse. */
export { run, type RunIo } from './main.js';
export { ApiClient, buildPath, encodeFilters, type Query, type RequestOptions, type WaitResult } from './client.js';
export { Demuxer, encodeFrame, demuxAll, STREAM_STDOUT, STREAM_STDERR, STREAM_SYSTEM, type Frame, type StreamType } from './stream.js';
export { buildCreateRequest, type CreateFlags, type CreateRequest } from './create-body.js';
export { convertMountFlags, type ApiMount, type MountConverter, type MountFields } from './mount-flags.js';
export { ensureDaemon, socketPathOf, DEFAULT_HOST, DEFAULT_ROOT } from './daemon.js';
export { humanSize, parseMemory } from './format/size.js';
export { humanDuration, timeAgo } from './format/duration.js';
export { formatTable } from './format/table.js';
export {
  CliError, UsageError, DaemonError, DaemonUnreachableError, DaemonStartError, ProtocolError,
  EXIT_BERTH_FAILED, EXIT_CANNOT_INVOKE, EXIT_NOT_FOUND, type CliErrorCode,
} from './errors.js';
