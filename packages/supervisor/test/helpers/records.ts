import { defaultConfig, defaultHostConfig, resolveSecurity, type ContainerConfig } from '@berth/runtime';
import type { ContainerRecord } from '../../src/container-store.js';

/** A stored container record as `create` makes one: resolved Config and HostConfig, Docker's defaults. */
export function containerRecord(over: Partial<Omit<ContainerRecord, 'config'>> & { id: string; name: string; config?: Partial<ContainerConfig> }): ContainerRecord {
  const { config, ...rest } = over;
  return {
    image: 'busybox', imageId: 'sha256:' + 'a'.repeat(64), hostConfig: defaultHostConfig(), networkingConfig: { EndpointsConfig: {} },
    mounts: [], security: resolveSecurity({}, { lastCap: 40 }), state: 'created', pid: 0, startTime: 0, exitCode: 0, error: '', oomKilled: false, created: new Date().toISOString(),
    startedAt: '', finishedAt: '', autoRemove: false, anonymousVolumes: [], restartCount: 0, manuallyStopped: false,
    ...rest,
    config: { ...defaultConfig('busybox'), Cmd: ['sh'], Hostname: over.id.slice(0, 12), ...config },
  };
}
