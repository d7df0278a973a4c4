import { MessageChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { WorkerRetiredError } from '../errors.js';
import { RETIRED_EXIT_CODE, type LaunchStarted, type LaunchTask, type WorkerMessage } from './protocol.js';

const workerFile = fileURLToPath(new URL('./worker.js', import.meta.url));

export interface PoolOptions {
  /** Number of warm worker threads (default 2). */
  workers?: number;
}

export interface PoolLaunch {
  started: LaunchStarted;
  /** Resolves with how the init ended, as its parent saw it; null if the worker died first. */
  exited: Promise<{ code: number | null; signal: string | null } | null>;
}

/**
 * The warm pool of launch workers. Settings from design.md: a fixed number
 * of threads that are never reaped (a reaped worker loses the child handles
 * it holds), and atomics disabled so an idle worker's event loop keeps
 * running and sees its children's exits.
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

  async launch(task: Omit<LaunchTask, 'port'>): Promise<PoolLaunch> {
    const { port1, port2 } = new MessageChannel();
    let settle: (v: { code: number | null; signal: string | null } | null) => void = () => undefined;
    const exited = new Promise<{ code: number | null; signal: string | null } | null>((resolve) => {
      settle = resolve;
    });
    port1.on('message', (message: WorkerMessage) => {
      if (message.kind === 'exited') {
        settle({ code: message.code, signal: message.signal });
        port1.close();
      }
    });
    // A retired or crashed worker closes its end: the caller falls back to
    // watching the pid, so an exit status never depends on one worker's life.
    port1.on('close', () => settle(null));
    try {
      const started = (await this.piscina.run({ ...task, port: port2 }, { transferList: [port2] })) as LaunchStarted;
      return { started, exited };
    } catch (error) {
      port1.close();
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
