import type { LaunchPlan } from '../plan/index.js';

/** The container init's command line for a plan (see init/berth-init.c). */
export function initArguments(plan: LaunchPlan): string[] {
  const args = ['--rootfs', plan.rootfs.target, '--cwd', plan.cwd, '--caps', plan.capabilities.mask.toString(16)];
  if (plan.user) args.push('--user', plan.user);
  for (const path of plan.maskedPaths) args.push('--mask', path);
  for (const path of plan.readonlyPaths) args.push('--ro', path);
  if (plan.readonlyRootfs) args.push('--readonly-rootfs');
  if (plan.init) args.push('--init');
  if (plan.process.tty) args.push('--tty');
  args.push('--', ...plan.process.args);
  return args;
}
