import { Socket } from 'node:net';
import type { ExecPlan, LaunchPlan } from '../plan/index.js';
import type { StdioFds } from '../runtime-types.js';

/** The shim's command line for a container (see init/berth-init.c). */
export function initArguments(plan: LaunchPlan): string[] {
  return [...rootArguments(plan, plan.rootfs.target), ...launchArguments(plan)];
}

/**
 * What the stub does to the root before pivot_root (/proc, sysctls, masked
 * and read-only paths): a sandbox does it ahead, so these are part of what
 * it is keyed by.
 */
export function rootArguments(plan: LaunchPlan, rootfs: string): string[] {
  const args = ['--rootfs', rootfs];
  if (plan.pidNamespace !== 'new') args.push('--pidns', plan.pidNamespace);
  for (const s of plan.sysctls) args.push('--sysctl', `${s.key}=${s.value}`);
  for (const path of plan.maskedPaths) args.push('--mask', path);
  for (const path of plan.readonlyPaths) args.push('--ro', path);
  return args;
}

/** The rest, the launch's own: a sandbox gets them in its launch message. Ends with `-- CMD ARGS...`. */
export function launchArguments(plan: LaunchPlan): string[] {
  const args = ['--id', plan.containerId, '--cwd', plan.cwd, '--caps', plan.capabilities.mask.toString(16)];
  if (plan.user) args.push('--user', plan.user);
  if (plan.seccomp) args.push('--seccomp', plan.seccomp.path);
  if (plan.noNewPrivileges) args.push('--no-new-privs');
  if (plan.groupAdd.length > 0) args.push('--groups', plan.groupAdd.join(','));
  if (plan.oomScoreAdj !== 0) args.push('--oom-score-adj', String(plan.oomScoreAdj));
  for (const r of plan.rlimits) args.push('--rlimit', `${r.name}=${r.soft}:${r.hard}`);
  if (plan.readonlyRootfs) args.push('--readonly-rootfs');
  if (plan.process.tty) args.push('--tty');
  args.push('--', ...plan.process.args);
  return args;
}

/**
 * A sandbox's launch message (berth-init.c, "launch message"): the count
 * of arguments, the arguments, then the environment, each NUL-terminated.
 */
export function launchMessage(plan: LaunchPlan): Buffer {
  const args = launchArguments(plan);
  return Buffer.from([String(args.length), ...args, ...plan.env].map((s) => `${s}\0`).join(''));
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

/** The stub's host pid from a shim's pid pipe ("PID\n"); undefined when it closed without one. */
export function readPid(fd: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const pipe = new Socket({ fd, readable: true, writable: false });
    let text = '';
    pipe.setEncoding('latin1');
    pipe.on('data', (chunk: string) => { text += chunk; });
    pipe.on('close', () => resolve(parsePidReport(text)));
    pipe.on('error', () => pipe.destroy());
  });
}
