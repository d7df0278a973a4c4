/**
 * A launch worker (piscina). Each thread saves its own namespaces once; every
 * launch unshares from berth's mount namespace, builds the container's tree,
 * starts the init, and returns the thread to where it was.
 */
import {
  CLONE_FS, CLONE_NEWNS, LinuxSyscalls, MS_BIND, MS_PRIVATE, MS_REC, Namespaces, O_CLOEXEC, O_DIRECTORY, O_PATH, O_RDONLY, O_RDWR, withFault,
} from '@berth/syscall';
import type { ViewOpened, ViewTask } from '../archive/view.js';
import { WorkerRetiredError } from '../errors.js';
import { workerData } from 'piscina';
import { Executor } from './execute.js';
import { SandboxPool, sandboxKey } from './sandbox.js';
import { applyMount, prepareNetworkNamespace } from './tree.js';
import { RootResolver } from './resolve.js';
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

const sandboxes = new SandboxPool(base, new Namespaces(base), home, devNull, { size: (workerData as { sandboxes?: number } | undefined)?.sandboxes ?? 0 });
let refilling = false;

/** The network namespace made ahead, handed over (the worker makes another). */
function takeSpareNet(): number | undefined {
  const net = spareNet;
  spareNet = undefined;
  return net;
}

/** Refills the sandbox pool one build per turn of the event loop, so a launch waits for one build at most. */
function refill(): void {
  if (refilling) return;
  refilling = true;
  const step = (): void => {
    let more = false;
    try {
      prepareSpare();
      more = sandboxes.refillOne(takeSpareNet);
      if (spareNet === undefined) prepareSpare();
    } catch (error) {
      if (error instanceof WorkerRetiredError) retire(error);
    }
    if (more) setImmediate(step);
    else refilling = false;
  };
  setImmediate(step);
}

/**
 * A refill waits until no launch has come to this worker for this long. A
 * build is ~10 ms of CPU (namespaces, the overlay mount, the shim's fork),
 * and on this 2-core machine one started right after a launch ran beside
 * that container's own start and exit: /bin/true's launch (60 ms apart) took
 * 10.5-12 ms p50 with the refill at once, 7.7-8.5 ms with it 10 ms after the
 * last launch (20 and 40 ms gave the same), and 100 back-to-back launches
 * took 1.4-1.6 s either way.
 */
const REFILL_AFTER_IDLE_MS = 10;
let refillTimer: NodeJS.Timeout | undefined;
function refillWhenIdle(): void {
  clearTimeout(refillTimer);
  refillTimer = setTimeout(refill, REFILL_AFTER_IDLE_MS);
}

function retire(error: WorkerRetiredError): never {
  // This thread may be stuck in a container's namespaces (keeping them
  // alive): end it now, never reuse it. Containers it started earlier
  // are unaffected: their exits are seen through their exit pipes.
  console.error(`berth: ${error.message}`);
  // Parked sandboxes see EOF on their control sockets and exit; their leftovers go when the runtime next opens.
  try { sandboxes.abandon(); } catch { /* retiring anyway */ }
  process.exit(RETIRED_EXIT_CODE);
}

export default function launch(task: LaunchTask): LaunchStarted {
  const key = sandboxKey(task);
  if (key !== undefined) {
    sandboxes.remember(key, task);
    const sandbox = sandboxes.take(key);
    try {
      const started = sandbox && sandboxes.launch(sandbox, task, task.sandboxFault ? withFault(base, task.sandboxFault) : base);
      if (started) return started;
    } catch (error) {
      if (error instanceof WorkerRetiredError) retire(error);
      throw error;
    } finally {
      if (!task.saturated) refillWhenIdle();
    }
  }
  return launchInline(task);
}

/** The launch built on the spot (no sandbox for it): design.md steps 2–8 on this thread. */
function launchInline(task: LaunchTask): LaunchStarted {
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

/**
 * The end of this worker's sandboxes (the pool is closing). Every worker
 * gets one such task: each waits at `barrier` until all have started, so no
 * worker takes two.
 */
export async function drainSandboxes(task: { barrier: SharedArrayBuffer; workers: number }): Promise<{ built: number; used: number; discarded: number; buildMs: number }> {
  clearTimeout(refillTimer);
  await sandboxes.drain();
  const count = new Int32Array(task.barrier);
  Atomics.add(count, 0, 1);
  Atomics.notify(count, 0);
  const deadline = Date.now() + 2000;
  for (let seen = Atomics.load(count, 0); seen < task.workers && Date.now() < deadline; seen = Atomics.load(count, 0)) {
    Atomics.wait(count, 0, seen, 50);
  }
  return { ...sandboxes.stats };
}

/**
 * A view of a stopped container's files (`docker cp`, archive): in a fresh
 * mount namespace made from berth's own, its rootfs and its volumes and binds
 * are mounted with the launch's own pieces, and fds on the root and on the
 * namespace go back to the caller, who closes them to tear it all down
 * (the namespace dies with its last reference). Nothing is mounted in the
 * host's namespace or in berth's.
 */
export function openView(task: ViewTask): ViewOpened {
  let rootFd = -1;
  let namespaceFd = -1;
  let failure: unknown;
  try {
    base.setns(task.berthNamespaceFd, CLONE_NEWNS);
    base.unshare(CLONE_NEWNS);
    base.mount(null, '/', null, MS_REC | MS_PRIVATE, null);
    const { rootfs } = task;
    if (rootfs.type === 'bind') base.mount(rootfs.source, rootfs.target, null, MS_BIND | MS_REC, null);
    else base.mount(rootfs.source, rootfs.target, rootfs.type, 0, rootfs.options.join(','));
    const root = new RootResolver(base, rootfs.target);
    try {
      for (const m of task.mounts) applyMount(base, root, m);
    } finally {
      root.close();
    }
    rootFd = base.open(rootfs.target, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    namespaceFd = base.open('/proc/thread-self/ns/mnt', O_RDONLY | O_CLOEXEC, 0);
  } catch (error) {
    failure = error;
  } finally {
    try {
      new Namespaces(base).restore(home);
    } catch (error) {
      retire(new WorkerRetiredError(error, failure));
    }
  }
  if (failure !== undefined) {
    if (rootFd >= 0) base.close(rootFd);
    throw failure;
  }
  return { rootFd, namespaceFd };
}
