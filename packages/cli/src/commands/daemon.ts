import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { CliError, UsageError } from '../errors.js';

/**
 * `berth daemon`: the supervisor in the foreground until SIGINT/SIGTERM.
 * The supervisor is loaded here, at run time, so that no other command pays
 * for loading it (they only talk to its socket).
 */
export async function daemon(ctx: Context, opts: { workers?: string; sandboxes?: string; storageDriver?: string; insecureRegistry?: string[] }): Promise<number> {
  const workers = opts.workers === undefined ? undefined : Number(opts.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
    throw new UsageError(`invalid --workers '${opts.workers ?? ''}': use a whole number of at least 1`);
  }
  const sandboxes = opts.sandboxes === undefined ? undefined : Number(opts.sandboxes);
  if (sandboxes !== undefined && (!Number.isInteger(sandboxes) || sandboxes < 0)) {
    throw new UsageError(`invalid --sandboxes '${opts.sandboxes ?? ''}': use a whole number (0 turns them off)`);
  }
  const driver = opts.storageDriver;
  if (driver !== undefined && driver !== 'overlay' && driver !== 'vfs') {
    throw new UsageError(`invalid --storage-driver '${driver}': use overlay or vfs`);
  }
  let runDaemon: typeof import('@berth/supervisor').runDaemon;
  try {
    ({ runDaemon } = await import('@berth/supervisor'));
  } catch (error) {
    throw new CliError('DAEMON_START_FAILED', `cannot load @berth/supervisor: ${(error as Error).message}; run npm run build`, { cause: error });
  }
  mkdirSync(path.dirname(ctx.socketPath), { recursive: true, mode: 0o755 });
  await runDaemon({
    root: ctx.root,
    socketPath: ctx.socketPath,
    ...(workers === undefined ? {} : { workers }),
    ...(sandboxes === undefined ? {} : { sandboxes }),
    ...(driver ? { storageDriver: driver } : {}),
    ...(opts.insecureRegistry && opts.insecureRegistry.length > 0 ? { insecureRegistries: opts.insecureRegistry } : {}),
    log: (line) => ctx.err.write(`${line}\n`),
  });
  return 0;
}
