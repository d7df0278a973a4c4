/** Archive files in and out of the CLI: a file or `-` (stdin/stdout), written atomically. */
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Context } from './context.js';
import { CliError, UsageError } from './errors.js';

export interface ArchiveSource {
  stream: Readable;
  /** Size in bytes, when known (a file; not stdin). */
  size?: number;
}

export function openArchive(ctx: Context, file: string): ArchiveSource {
  if (file === '-') {
    if ((ctx.stdin as { isTTY?: boolean }).isTTY === true) {
      throw new UsageError('refusing to read an archive from a terminal: give a FILE or pipe the archive into stdin');
    }
    return { stream: ctx.stdin };
  }
  let size: number;
  try {
    const st = statSync(path.resolve(ctx.cwd, file));
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (error) {
    throw new UsageError(`cannot read archive ${file}: ${(error as Error).message}; give the path of a tar file, or - for stdin`);
  }
  return { stream: createReadStream(path.resolve(ctx.cwd, file)), size };
}

/** Writes `source` to FILE via a temporary name renamed into place on success, or to stdout when FILE is absent. */
export async function writeArchive(ctx: Context, source: Readable, file: string | undefined): Promise<void> {
  if (file === undefined || file === '-') {
    if ((ctx.out as { isTTY?: boolean }).isTTY === true) {
      throw new UsageError('refusing to write an archive to a terminal: use -o FILE or redirect stdout');
    }
    await pipeline(source, ctx.out, { end: false });
    return;
  }
  const target = path.resolve(ctx.cwd, file);
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.berth-${process.pid}.tmp`);
  try {
    await pipeline(source, createWriteStream(temp, { flags: 'wx', mode: 0o600 }));
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    if (error instanceof CliError) throw error;
    throw new CliError('IO', `failed to write archive ${file}: ${(error as Error).message}; check the directory exists and is writable`, { cause: error });
  }
}
