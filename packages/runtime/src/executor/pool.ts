import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { WorkerRetiredError } from '../errors.js';
import { RETIRED_EXIT_CODE, type LaunchStarted, type LaunchTask } from './protocol.js';
import type { ViewOpened, ViewTask } from '../archive/view.js';

const workerFile = fileURLToPath(new URL('./worker.js', import.meta.url));

export interface PoolOptions {
  /** Number of warm worker threads (default 2). */
  workers?: number;
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

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
