/**
 * Security settings as Docker has them: capabilities, SecurityOpt, seccomp
 * (Docker's default profile, compiled with libseccomp and cached as BPF),
 * masked paths, groups, oom_score_adj, ulimits, namespaced sysctls; and the
 * private state root.
 */
export { resolveSecurity, readLastCap, ULIMIT_NAMES } from './resolve.js';
export { parseSecurityOpt, type SecurityOptions } from './security-opt.js';
export {
  CAPABILITY_NAMES, KNOWN_LAST_CAP, allCapabilities, capabilitySet, normalizeCapabilities, readBoundingSet, resolveCapabilities,
  withinBoundingSet,
  type CapabilityRequest,
} from './capabilities.js';
export {
  DEFAULT_PROFILE_SOURCE, capabilitiesMentioned, decodeSeccompProfile, defaultProfileText, defaultSeccompProfile,
  kernelAtLeast, profileDigest, selectSeccompRules,
  type SeccompArg, type SeccompProfile, type SeccompSyscall, type SeccompTarget, type SelectedFilter, type SelectedRule,
} from './seccomp-profile.js';
export { SeccompCache, compileSeccompProfile, nativeTarget } from './seccomp-compile.js';
export { securityOptions, kernelHasSeccomp, type SecurityFacts } from './info.js';
export {
  STATE_ROOT_MODE, VOLUMES_DIR_MODE, describeCorrection, ensurePrivateStateRoot, type ModeCorrection,
} from './state-root.js';
export type { ResolvedSecurity, SeccompChoice, SecurityContext, SecurityHostConfig, Sysctl, Ulimit } from './types.js';
