import type { ExecPlan, LaunchPlan } from '../plan/index.js';

/** The container init's command line for a plan (see init/berth-init.c). */
export function initArguments(plan: LaunchPlan): string[] {
  const args = ['--rootfs', plan.rootfs.target, '--id', plan.containerId, '--cwd', plan.cwd, '--caps', plan.capabilities.mask.toString(16)];
  if (plan.user) args.push('--user', plan.user);
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
  if (plan.tty) args.push('--tty');
  args.push('--', ...plan.args);
  return args;
}
