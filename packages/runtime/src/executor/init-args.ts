import type { ExecPlan, LaunchPlan } from '../plan/index.js';
import type { StdioFds } from '../runtime-types.js';

/** The shim's command line for a container (see init/berth-init.c). */
export function initArguments(plan: LaunchPlan): string[] {
  const args = ['--rootfs', plan.rootfs.target, '--id', plan.containerId, '--cwd', plan.cwd, '--caps', plan.capabilities.mask.toString(16)];
  if (plan.pidNamespace !== 'new') args.push('--pidns', plan.pidNamespace);
  if (plan.user) args.push('--user', plan.user);
  if (plan.seccomp) args.push('--seccomp', plan.seccomp.path);
  if (plan.noNewPrivileges) args.push('--no-new-privs');
  if (plan.groupAdd.length > 0) args.push('--groups', plan.groupAdd.join(','));
  if (plan.oomScoreAdj !== 0) args.push('--oom-score-adj', String(plan.oomScoreAdj));
  for (const r of plan.rlimits) args.push('--rlimit', `${r.name}=${r.soft}:${r.hard}`);
  for (const s of plan.sysctls) args.push('--sysctl', `${s.key}=${s.value}`);
  for (const path of plan.maskedPaths) args.push('--mask', path);
  for (const path of plan.readonlyPaths) args.push('--ro', path);
  if (plan.readonlyRootfs) args.push('--readonly-rootfs');
  if (plan.process.tty) args.push('--tty');
  args.push('--', ...plan.process.args);
  return args;
}

/** The shim's exec role: its stub joins the namespaces of `containerPid` (the container's PID 1 on the host) and runs the plan's command. */
export function execInitArguments(plan: ExecPlan, containerPid: number): string[] {
  const args = ['--exec-in', String(containerPid), '--cwd', plan.cwd, '--caps', plan.capabilities.mask.toString(16)];
  if (plan.user) args.push('--user', plan.user);
  if (plan.seccomp) args.push('--seccomp', plan.seccomp.path);
  if (plan.noNewPrivileges) args.push('--no-new-privs');
  if (plan.groupAdd.length > 0) args.push('--groups', plan.groupAdd.join(','));
  if (plan.tty) args.push('--tty');
  args.push('--', ...plan.args);
  return args;
}

/** The pipes and files a shim is given besides stdio (fd numbers in the caller's process). */
export interface ShimFds {
  /** Read end of the go pipe: the stub waits for one byte. */
  go: number;
  /** The status file, open for writing. */
  status: number;
  /** Write end of the exit pipe: EOF on the read end means the shim has reported and is exiting. */
  exit: number;
  /** Write end of the pid pipe: the shim writes the stub's host pid ("PID\n") on it. */
  pid: number;
}

/**
 * The shim's fds, in the order its protocol numbers them: 0-2 stdio, 3 the
 * go pipe, 4 the status file, 5 the exit pipe, 6 the pid pipe, 7 (with a
 * terminal) the window size file.
 */
export function initFds(stdio: StdioFds, devNull: number, tty: boolean, fds: ShimFds): number[] {
  const out = [stdio.stdin ?? devNull, stdio.stdout, stdio.stderr, fds.go, fds.status, fds.exit, fds.pid];
  if (tty && stdio.terminalSize !== undefined) out.push(stdio.terminalSize);
  return out;
}

/**
 * The stub's host pid, as the shim writes it on its pid pipe; undefined when
 * the pipe closed without one (the shim failed before it could fork, and
 * its status file says why).
 */
export function parsePidReport(text: string): number | undefined {
  const m = /^(\d+)\n/.exec(text);
  return m ? Number(m[1]) : undefined;
}
