import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { WorkerRetiredError } from '../errors.js';
import { RETIRED_EXIT_CODE, type LaunchStarted, type LaunchTask } from './protocol.js';
import type { ViewOpened, ViewTask } from '../archive/view.js';

const workerFile = fileURLToPath(new URL('./worker.js', import.meta.url));

export interface PoolOptions {
  /** Number of warm worker threads (default 2). */
  workers?: number;
  /** Sandboxes each worker keeps built ahead for its recent launches (default 2; 0: none). */
  sandboxes?: number;
}

/** What the workers' sandbox pools did, summed (for the bench). */
export interface SandboxStats {
  built: number;
  used: number;
  discarded: number;
  buildMs: number;
}

/**
 * The warm pool of launch workers. Settings from design.md: a fixed number
 * of threads that are never reaped, and atomics disabled so an idle worker's
 * event loop keeps running.
 */
export class LaunchPool {
  private readonly piscina: Piscina;

  constructor(options: PoolOptions = {}) {
    const threads = options.workers ?? 2;
    this.piscina = new Piscina({
      workerData: { sandboxes: options.sandboxes ?? 2 },
      filename: workerFile,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity,
      atomics: 'disabled',
      concurrentTasksPerWorker: 1,
    });
  }

  async launch(task: LaunchTask): Promise<LaunchStarted> {
    try {
      return (await this.piscina.run(task)) as LaunchStarted;
    } catch (error) {
      if (error instanceof Error && error.message.endsWith(`exited with code: ${RETIRED_EXIT_CODE}`)) {
        throw new WorkerRetiredError(error);
      }
      throw error;
    }
  }

  /** A throwaway view of a stopped container's files (worker.ts `openView`). */
  async openView(task: ViewTask): Promise<ViewOpened> {
    try {
      return (await this.piscina.run(task, { name: 'openView' })) as ViewOpened;
    } catch (error) {
      if (error instanceof Error && error.message.endsWith(`exited with code: ${RETIRED_EXIT_CODE}`)) {
        throw new WorkerRetiredError(error);
      }
      throw error;
    }
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /**
   * Ends every worker's sandboxes, then the workers. Each worker gets one
   * drain task (they meet at a barrier, so none takes two).
   */
  async close(): Promise<SandboxStats> {
    const workers = this.piscina.threads.length;
    const barrier = new SharedArrayBuffer(4);
    const drained = await Promise.allSettled(
      Array.from({ length: workers }, () => this.piscina.run({ barrier, workers }, { name: 'drainSandboxes' }) as Promise<SandboxStats>),
    );
    await this.piscina.destroy();
    const stats: SandboxStats = { built: 0, used: 0, discarded: 0, buildMs: 0 };
    for (const d of drained) {
      if (d.status !== 'fulfilled') continue;
      stats.built += d.value.built;
      stats.used += d.value.used;
      stats.discarded += d.value.discarded;
      stats.buildMs += d.value.buildMs;
    }
    return stats;
  }
}
