/**
 * @berth/testing: what berth's tests share. Root-only suites that say why
 * they skip (`describeRoot`), a real berth root with a runtime and a busybox
 * image (`openTestEnv`), the supervisor as a child process that can be
 * SIGKILLed (`Daemon`), the docker CLI's way to wait (`waitContainer`), and
 * the host state a test must leave as it found it (`host-state`).
 */
export { describeRoot, hostNetworkState, isRoot } from './root.js';
export { openTestEnv, type BodyFields, type RunResult, type TestEnv } from './runtime-env.js';
export { waitContainer, type RegisteredWait, type WaitCondition } from './wait.js';
export { BERTH_BIN, Daemon, REPO, type DaemonOptions } from './daemon.js';
export * from './host-state.js';
export { skopeoPush, skopeoRawManifest, startRegistry, type TestRegistry } from './registry.js';
