/** Helpers the command files share. */
import type { Context } from '../context.js';
import { CliError, DaemonError, EXIT_BERTH_FAILED, UsageError } from '../errors.js';

export const enc = encodeURIComponent;

/**
 * Runs `action` for each name as docker does for stop/kill/rm: prints the
 * name on success, reports each failure on stderr and carries on; the exit
 * status is 125 if any failed.
 */
export async function forEachName(ctx: Context, names: readonly string[], action: (name: string) => Promise<void>): Promise<number> {
  let failed = false;
  for (const name of names) {
    try {
      await action(name);
      ctx.out.write(`${name}\n`);
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      failed = true;
      ctx.err.write(`${error.render()}\n`);
    }
  }
  return failed ? EXIT_BERTH_FAILED : 0;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof DaemonError && error.statusCode === 404;
}

/** `--label k=v`, `--opt k=v`: the pairs as an object; a pair without a key is a usage error naming the flag. */
export function keyValues(flag: string, pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid ${flag} '${pair}': use ${flag} key=value`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
