/**
 * @berth/syscall: the only package that talks to the kernel.
 *
 * ```ts
 * import { LinuxSyscalls, CLONE_NEWNS } from '@berth/syscall';
 * const sys = new LinuxSyscalls();
 * sys.unshare(CLONE_NEWNS | CLONE_FS);
 * ```
 */
export * from './constants.js';
export * from './mount-options.js';
export * from './proc.js';
export type {
  AttachResult, CloneResult, MountAttr, OpenHow, SpawnOptions, TreeAttach, TreeClone, WaitResult, SyscallArgs, SyscallCall, SyscallName, SyscallResult, SyscallSignatures, Syscalls,
} from './signatures.js';
export { SYSCALL_NAMES } from './signatures.js';
export { SyscallError, errnoName, errnoNumber, isSyscallError, ERROR_KINDS, errorKind, type ErrorKind, type KindedError } from './errors.js';
export { LinuxSyscalls } from './linux.js';
export { withFault, type FaultPlan } from './fault.js';
export { makedev, major, minor } from './devices.js';
export { Namespaces, NAMESPACE_KINDS, type NamespaceKind, type SavedNamespaces } from './namespaces.js';
export { PrivateMountNamespace } from './private-namespace.js';
export { markTopDirectory } from './fs-flags.js';
