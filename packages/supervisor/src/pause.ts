import type { ContainerEngine } from './engine.js';
import { ConflictError, NotImplementedError } from './errors.js';
import type { Lifecycle } from './lifecycle.js';

/*
 * `docker pause` / `docker unpause`: every process of the container frozen
 * in its cgroup (v1 freezer, v2 cgroup.freeze). Whether a container is
 * paused is the kernel's state (`Lifecycle.isPaused`), never a copy, so it
 * holds across supervisor restarts. dockerd's texts; dockerd 20.10 answers
 * 500 for "is not paused", berth 409 (a conflict with the state, as later
 * dockerd versions answer).
 */

function freezer(engine: ContainerEngine | undefined): Required<Pick<ContainerEngine, 'pause' | 'unpause'>> {
  if (!engine?.pause || !engine.unpause) throw new NotImplementedError('this engine cannot pause containers');
  return { pause: (id) => engine.pause!(id), unpause: (id) => engine.unpause!(id) };
}

export async function pauseContainer(lc: Lifecycle, engine: ContainerEngine | undefined, ref: string): Promise<void> {
  const rec = lc.store.resolve(ref);
  const f = freezer(engine);
  if (!lc.isRunning(rec.id)) throw new ConflictError(`Container ${rec.id} is not running`);
  if (lc.isPaused(rec.id)) throw new ConflictError(`Container ${rec.id} is already paused`);
  await f.pause(rec.id);
  lc.publish('pause', rec);
}

export async function unpauseContainer(lc: Lifecycle, engine: ContainerEngine | undefined, ref: string): Promise<void> {
  const rec = lc.store.resolve(ref);
  const f = freezer(engine);
  if (!lc.isPaused(rec.id)) throw new ConflictError(`Container ${rec.id} is not paused`);
  await f.unpause(rec.id);
  lc.publish('unpause', rec);
}

/**
 * Runs `work` with the container frozen when it is running and not already
 * paused (`docker commit`'s `pause`, default true): its files do not change
 * half-way through. It is thawed afterwards, whatever `work` did; the
 * pause and unpause events are published, as dockerd's commit does.
 */
export async function whilePaused<T>(lc: Lifecycle, engine: ContainerEngine | undefined, id: string, work: () => Promise<T>): Promise<T> {
  if (!lc.isRunning(id) || lc.isPaused(id)) return work();
  await pauseContainer(lc, engine, id);
  try {
    return await work();
  } finally {
    await unpauseContainer(lc, engine, id);
  }
}
