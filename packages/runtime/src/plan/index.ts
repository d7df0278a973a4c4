/**
 * The launch plan: `planLaunch` turns a container's resolved Config and
 * HostConfig and its mounts bound to their host sources into a
 * JSON-serialisable `LaunchPlan`, which one executor applies.
 */
export { DEFAULT_INIT_BINARY, IN_CONTAINER_INIT, checkLaunchable, planExec, planLaunch, resourceLimits, validateNamespaceModes } from './plan.js';
export { splitMountOptions } from './mount-flags.js';
export {
  DEFAULT_MASKED_PATHS, DEFAULT_PATH_ENV, DEFAULT_READONLY_PATHS, defaultCapabilities,
} from './defaults.js';
export {
  defaultDeviceRules, deviceRuleLine, parseDeviceCgroupRule, privilegedDeviceRules,
  type DeviceMapping, type DeviceRule, type DeviceType, type HostDevice, type HostDevices, type PlannedDevice,
} from './devices.js';
export type {
  JoinNamespaces, NamespaceDonors,
  CapabilitySet, DeviceNode, DevPlan, ExecInput, ExecOptions, ExecPlan, DevSubMount, LaunchPlan, PlanContainerConfig, PlanHostConfig,
  PlanInput, PlannedLimits, PlannedMount, ResolvedMount, RootfsMount, SystemMount,
} from './types.js';
