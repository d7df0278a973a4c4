/**
 * The container model: a create body checked once (`parseCreateBody`),
 * resolved once (`resolveContainer`) into the `ContainerSpec` berth stores.
 */
export type {
  ContainerConfig, ContainerSpec, CreateRequest, EndpointSettings, Empty, HealthConfig, HostConfig,
  ImageFacts, LogConfig, NetworkingConfig, PortBinding, RestartPolicy,
} from './types.js';
export { parseCreateBody } from './create-body.js';
export { mergeImageConfig, resolveContainer, type ResolveContext } from './resolve.js';
export { defaultConfig, defaultHostConfig, DEFAULT_SHM_SIZE } from './defaults.js';
