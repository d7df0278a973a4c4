/**
 * The window size of a terminal berth-init relays (`Tty` containers and
 * execs): a small file the init reads at start and again on each SIGWINCH.
 * A file, not a pipe, so a resize still reaches a container that a later
 * supervisor re-adopted.
 */
import { closeSync, constants as fsc, mkdirSync, openSync, writeSync } from 'node:fs';
import { constants as osc } from 'node:os';
import { dirname } from 'node:path';
import type { Syscalls } from '@berth/syscall';
import { signalProcess } from './process-control.js';

/**
 * The record is rewritten in place, one fixed-width write at offset 0: the
 * init holds the file open (a rename would leave it reading the old one)
 * and reads it whole, so it never sees a half-written size.
 */
const RECORD = 24;

function record(rows: number, cols: number): Buffer {
  return Buffer.from(`${rows} ${cols}`.padEnd(RECORD - 1) + '\n');
}

function writeRecord(fd: number, rows: number, cols: number): void {
  writeSync(fd, record(rows, cols), 0, RECORD, 0);
}

/** Creates the size file (empty: the kernel's default size) and returns a read fd for the init. */
export function openTerminalSize(path: string, size: readonly [number, number] | undefined): number {
  mkdirSync(dirname(path), { recursive: true, mode: 0o710 });
  const fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC, 0o600);
  try {
    if (size !== undefined) writeRecord(fd, size[0], size[1]);
  } finally {
    closeSync(fd);
  }
  return openSync(path, fsc.O_RDONLY);
}

/** `resize`: the new size into the file, then SIGWINCH to the init relaying that terminal. */
export function resizeTerminal(syscalls: Syscalls, path: string, relay: { pid: number; startTime: number }, rows: number, cols: number): void {
  const fd = openSync(path, fsc.O_WRONLY);
  try {
    writeRecord(fd, rows, cols);
  } finally {
    closeSync(fd);
  }
  signalProcess(syscalls, relay.pid, relay.startTime, osc.signals.SIGWINCH);
}

/** `ConsoleSize` ([rows, cols], API 1.42+) as the docker CLI sends it at create and exec; zeros mean unknown. */
export function parseConsoleSize(value: unknown): [number, number] | undefined {
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const valid = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 0xffff;
  const [rows, cols] = value as unknown[];
  return valid(rows) && valid(cols) ? [rows, cols] : undefined;
}
