import { CLONE_NEWPID } from '@berth/syscall';
import { LaunchError } from '../errors.js';
import type { ExecPlan, LaunchPlan } from '../plan/index.js';
import type { StdioFds } from '../runtime-types.js';

/**
 * berth-init ends every process of its pid namespace (`kill(-1)`) once the
 * command exits. In the host's pid namespace (`--pid host`) that is every
 * process on the host; in another container's (`--pid container:X`) it is
 * that container's. Until the init only ends its own children (the shim of
 * issue 13), a launch into a pid namespace it does not own is refused.
 * The plan and the executor already do the rest (no CLONE_NEWPID, setns).
 */
export const INIT_OWNS_ITS_PID_NAMESPACE = true;

/** The container init's command line for a plan (see init/berth-init.c). */
export function initArguments(plan: LaunchPlan): string[] {
  if (INIT_OWNS_ITS_PID_NAMESPACE && (!(plan.namespaces & CLONE_NEWPID) || plan.joinNamespaces.pid !== undefined)) {
    throw new LaunchError(
      'berth does not support --pid host or --pid container: yet: its container init ends every process of its pid namespace when the command exits',
    );
  }
  const args = ['--rootfs', plan.rootfs.target, '--id', plan.containerId, '--cwd', plan.cwd, '--caps', plan.capabilities.mask.toString(16)];
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
  if (plan.init) args.push('--init');
  if (plan.process.tty) args.push('--tty');
  args.push('--', ...plan.process.args);
  return args;
}

/** The init's exec mode: join the container whose init is `containerPid`, then run the plan's command there. */
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

/**
 * The init's fds, in the order its protocol numbers them: 0-2 stdio, 3 the
 * go pipe, 4 the status file, 5 the exit pipe, 6 (with a terminal) the
 * window size file.
 */
export function initFds(stdio: StdioFds, devNull: number, tty: boolean, fds: { go: number; status: number; exit: number }): number[] {
  const out = [stdio.stdin ?? devNull, stdio.stdout, stdio.stderr, fds.go, fds.status, fds.exit];
  if (tty && stdio.terminalSize !== undefined) out.push(stdio.terminalSize);
  return out;
}
