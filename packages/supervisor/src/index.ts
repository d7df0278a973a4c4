/**
 * @berth/supervisor: the long-running process behind the `berth` CLI and the
 * Docker-compatible API. It keeps containers in SQLite, drives their
 * lifecycles through the `Runtime`, keeps their output in json-file logs
 * (converted from append-only files the containers write, so nothing is
 * lost when the supervisor crashes), and re-adopts running containers when
 * it starts again.
 *
 * ```ts
 * import { Supervisor } from '@berth/supervisor';
 * const sup = await Supervisor.start({ root: '/var/lib/berth', socketPath: '/run/berth/berth.sock' });
 * // DOCKER_HOST=unix:///run/berth/berth.sock docker run --rm busybox echo hi
 * await sup.close();
 * ```
 */
export { Supervisor, runDaemon, openRealParts, DEFAULT_SOCKET, type SupervisorOptions, type SupervisorParts } from './supervisor.js';
export { ContainerStore, type ContainerRecord, type ContainerState, type ContainerUpdate } from './container-store.js';
export { Lifecycle, type LifecycleOptions, type WaitCondition, type WaitResult, type Waiter } from './lifecycle.js';
export { createApiServer, listenUnix, buildRouter } from './api/server.js';
export type { ApiDeps } from './api/deps.js';
export { queryBool, API_VERSION } from './api/http-util.js';
export { Filters, FILTER_KEYS, type FilterEndpoint, type FilterKey } from './filters.js';
export { pullReference, registryAuth } from './api/image-routes.js';
export type {
  ContainerConfig, ContainerEngine, ContainerSpec, ExitStatus, HostConfig, ImageConfigView, ImageService, ImageView, MountPoint, MountSpec,
  StartedContainer, StartRequest, StdioFds, VolumeListFilters, VolumePruneFilters, VolumeService, VolumeView,
} from './engine.js';
export {
  ConflictError, InvalidParameterError, NoSuchContainerError, NotFoundError, NotImplementedError, NotModifiedError, PayloadTooLargeError,
  STATUS_BY_KIND, SupervisorError, httpStatusFor, type SupervisorErrorCode,
} from './errors.js';
export { frame, deframe, STREAM_STDOUT, STREAM_STDERR, STREAM_SYSTEM_ERR } from './framing.js';
export { containerPaths, type ContainerPaths } from './stdio.js';
export { generateName, normalizeName } from './names.js';
export { healthSuffix, readHealth, resolveHealthcheck, validateHealthcheck, type HealthState } from './health.js';
