import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { CliError, UsageError } from '../errors.js';

interface RunningSupervisor {
  close(): Promise<void> | void;
}
interface SupervisorClass {
  start(options: { root: string; socketPath: string; workers?: number; storageDriver?: 'overlay' | 'vfs' }): Promise<RunningSupervisor>;
}

/**
 * Loads the supervisor at run time: the CLI builds and its other commands
 * work without it (they only need a socket), and `berth daemon` says plainly
 * when the supervisor package is not built.
 */
async function loadSupervisor(): Promise<SupervisorClass> {
  const specifier = '@berth/supervisor';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new CliError('DAEMON_START_FAILED', `cannot load @berth/supervisor: ${(error as Error).message}; run npm run build (and npm install if the workspace links are missing)`, { cause: error });
  }
  const candidate = mod['Supervisor'] as Partial<SupervisorClass> | undefined;
  if (candidate === undefined || typeof candidate.start !== 'function') {
    throw new CliError('DAEMON_START_FAILED', '@berth/supervisor has no Supervisor.start({ root, socketPath, workers }); rebuild it with npx tsc -b packages/supervisor');
  }
  return candidate as SupervisorClass;
}

/** Runs the supervisor in the foreground until SIGINT/SIGTERM. */
export async function daemon(ctx: Context, opts: { workers?: string; storageDriver?: string }): Promise<number> {
  const workers = opts.workers === undefined ? undefined : Number(opts.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
    throw new UsageError(`invalid --workers '${opts.workers ?? ''}': use a whole number of at least 1`);
  }
  const Supervisor = await loadSupervisor();
  mkdirSync(path.dirname(ctx.socketPath), { recursive: true, mode: 0o755 });
  const driver = opts.storageDriver;
  if (driver !== undefined && driver !== 'overlay' && driver !== 'vfs') {
    throw new UsageError(`invalid --storage-driver '${driver}': use overlay or vfs`);
  }
  const supervisor = await Supervisor.start({
    root: ctx.root, socketPath: ctx.socketPath, ...(workers === undefined ? {} : { workers }), ...(driver ? { storageDriver: driver } : {}),
  });
  ctx.err.write(`berth daemon: listening on unix://${ctx.socketPath} (root ${ctx.root})\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await supervisor.close();
  return 0;
}
