/**
 * The launch plan: `planLaunch` turns image config, container config,
 * HostConfig and resolved mounts into a JSON-serialisable `LaunchPlan`;
 * `mountFlagsFor` turns one planned mount into its mount(2) steps.
 */
export { planExec, planLaunch, validateNamespaceModes } from './plan.js';
export { mountFlagsFor, splitMountOptions, type MountSteps } from './mount-flags.js';
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
  PlanImageConfig, PlanInput, PlannedLimits, PlannedMount, ResolvedMount, RootfsMount, SystemMount,
} from './types.js';
