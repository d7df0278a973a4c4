import { closeSync, constants as fsc, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { StdioFds } from './engine.js';

/** The supervisor's own files of one container. */
export interface ContainerPaths {
  dir: string;
  /** What the container wrote to its stdout, raw and append-only; the container holds it open O_APPEND. */
  stdout: string;
  stderr: string;
  /** How far each raw file has been converted into the log (JSON, replaced atomically). */
  offsets: string;
  status: string;
  log: string;
  /** A terminal container's window size, "ROWS COLS" (the init re-reads it on SIGWINCH). */
  winsize: string;
}

/**
 * Kept apart from the layer store's `<root>/containers/<id>/`, which the
 * layer store builds under a temporary name and renames into place (it
 * refuses a directory that already exists, and the output files must exist
 * before the launch).
 */
export function containerPaths(root: string, id: string): ContainerPaths {
  const dir = join(root, 'supervisor', id);
  return {
    dir,
    stdout: join(dir, 'stdout'),
    stderr: join(dir, 'stderr'),
    offsets: join(dir, 'offsets'),
    status: join(dir, 'status'),
    log: join(dir, `${id}-json.log`),
    winsize: join(dir, 'winsize'),
  };
}

/**
 * Forget the raw output of an earlier run. Only called when that run is
 * recorded as exited, which happens only once its output is in the log.
 * (Also drops the FIFOs an older supervisor made.)
 */
export function removeRawOutput(paths: ContainerPaths): void {
  for (const f of [paths.stdout, paths.stderr, paths.offsets, `${paths.offsets}.tmp`, join(paths.dir, 'stdout.fifo'), join(paths.dir, 'stderr.fifo')]) {
    rmSync(f, { force: true });
  }
}

/**
 * The container's stdio, made so that it does not depend on the supervisor:
 * two regular files opened O_WRONLY|O_APPEND. A write to a regular file
 * never blocks on a reader and never raises SIGPIPE, and what is written
 * stays there whatever happens to the supervisor (a pipe loses its buffer
 * once the last process holding it exits, and stalls its writer at 64 KiB).
 * The supervisor follows the files into the json log (OutputFollower).
 */
export function openStdioForStart(paths: ContainerPaths, stdinFd?: number): { stdio: StdioFds; close: () => void } {
  mkdirSync(paths.dir, { recursive: true, mode: 0o710 });
  const fds: number[] = [];
  try {
    // Without `-i` the container reads /dev/null, as under Docker; with it, the caller's pipe (not ours to close).
    fds.push(stdinFd ?? openSync('/dev/null', fsc.O_RDONLY));
    for (const f of [paths.stdout, paths.stderr]) {
      fds.push(openSync(f, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND, 0o600));
    }
  } catch (err) {
    for (const fd of stdinFd === undefined ? fds : fds.slice(1)) closeSync(fd);
    throw err;
  }
  let closed = false;
  return {
    stdio: { stdin: fds[0]!, stdout: fds[1]!, stderr: fds[2]! },
    close: () => {
      if (closed) return;
      closed = true;
      for (const fd of stdinFd === undefined ? fds : fds.slice(1)) closeSync(fd);
    },
  };
}

