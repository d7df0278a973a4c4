/**
 * The launch plan: `planLaunch` turns image config, container config,
 * HostConfig and resolved mounts into a JSON-serialisable `LaunchPlan`;
 * `mountFlagsFor` turns one planned mount into its mount(2) steps.
 */
export { DEFAULT_INIT_BINARY, IN_CONTAINER_INIT, planExec, planLaunch } from './plan.js';
export { mountFlagsFor, splitMountOptions, type MountSteps } from './mount-flags.js';
export {
  DEFAULT_MASKED_PATHS, DEFAULT_PATH_ENV, DEFAULT_READONLY_PATHS, defaultCapabilities,
} from './defaults.js';
export type {
  CapabilitySet, DeviceNode, DevPlan, ExecInput, ExecOptions, ExecPlan, DevSubMount, LaunchPlan, PlanContainerConfig, PlanHostConfig,
  PlanImageConfig, PlanInput, PlannedLimits, PlannedMount, ResolvedMount, RootfsMount, SystemMount,
} from './types.js';
