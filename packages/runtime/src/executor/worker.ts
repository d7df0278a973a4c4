/**
 * A launch worker (piscina). Each thread saves its own namespaces once; every
 * launch unshares from berth's mount namespace, builds the container's tree,
 * starts the init, and returns the thread to where it was.
 */
import { CLONE_FS, LinuxSyscalls, Namespaces, O_CLOEXEC, O_RDWR, withFault } from '@berth/syscall';
import { WorkerRetiredError } from '../errors.js';
import { Executor } from './execute.js';
import { prepareNetworkNamespace } from './tree.js';
import { RETIRED_EXIT_CODE, type LaunchStarted, type LaunchTask } from './protocol.js';

const base = new LinuxSyscalls();
// CLONE_FS gives this thread its own root and cwd, which setns(mnt) needs.
base.unshare(CLONE_FS);
const home = new Namespaces(base).save();
// Opened on the host once: a container's stdin when the caller gives none.
const devNull = base.open('/dev/null', O_RDWR | O_CLOEXEC, 0);

/**
 * The next launch's network namespace, made while the worker is idle:
 * creating one and bringing its loopback up is the costliest kernel work of
 * a launch (about 1.3 ms here).
 */
let spareNet: number | undefined;
function prepareSpare(): void {
  if (spareNet !== undefined) return;
  try {
    spareNet = prepareNetworkNamespace(base, home.net);
  } catch (error) {
    retire(new WorkerRetiredError(error));
  }
}
setImmediate(prepareSpare);

function retire(error: WorkerRetiredError): never {
  // This thread may be stuck in a container's namespaces (keeping them
  // alive): end it now, never reuse it. Containers it started earlier
  // are unaffected: their exits are seen through their exit pipes.
  console.error(`berth: ${error.message}`);
  process.exit(RETIRED_EXIT_CODE);
}

export default function launch(task: LaunchTask): LaunchStarted {
  const sys = task.fault ? withFault(base, task.fault) : base;
  // A caller's configured namespace (bridge networks) wins over the spare one, which stays for the next launch.
  const given = task.netFd;
  const net = given ?? (task.plan.network === 'none' ? spareNet : undefined);
  if (given === undefined && net !== undefined) spareNet = undefined;
  try {
    // The restore goes through the same (possibly faulty) syscalls as the launch.
    return new Executor(sys, new Namespaces(sys), home, devNull, net).launch(task);
  } catch (error) {
    if (error instanceof WorkerRetiredError) retire(error);
    throw error;
  } finally {
    if (given === undefined && net !== undefined) base.close(net);
    setImmediate(prepareSpare);
  }
}
