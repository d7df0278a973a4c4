import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { O_CLOEXEC, type Syscalls } from '@berth/syscall';

/**
 * The stdin of a container created with `OpenStdin` (`docker run -i`): a
 * pipe whose read end becomes the container's fd 0 and whose write end the
 * supervisor holds, fed by attached clients.
 *
 * Unlike the output (regular files, see stdio.ts), stdin does depend on the
 * supervisor, as it must: when the supervisor goes away the write end
 * closes and the container reads end-of-file, the same thing it sees when
 * its client hangs up. A re-adopted container gets no new stdin.
 */
export class StdinPipe {
  private readFd: number;
  private readonly writer: Socket;
  private ended = false;

  constructor(syscalls: Syscalls) {
    const [readFd, writeFd] = syscalls.pipe2(O_CLOEXEC);
    this.readFd = readFd;
    // libuv makes the write end non-blocking (its own open file description;
    // the container's read end stays blocking) and buffers what the pipe
    // cannot take yet.
    this.writer = new Socket({ fd: writeFd, readable: false, writable: true });
    // EPIPE once the container has exited or closed its stdin: nobody is left to read.
    this.writer.on('error', () => this.writer.destroy());
  }

  /** The fd to hand to the container; valid until `releaseReadEnd`. */
  get containerFd(): number {
    if (this.readFd < 0) throw new Error('the stdin pipe was already handed to a container');
    return this.readFd;
  }

  /** The container holds its own copy now (or will never run): the supervisor's goes. */
  releaseReadEnd(): void {
    if (this.readFd < 0) return;
    closeSync(this.readFd);
    this.readFd = -1;
  }

  /** Writes client input; `false` asks the client to pause until `onDrain` (a full pipe). */
  write(chunk: Buffer): boolean {
    if (this.ended || this.writer.destroyed) return true;
    return this.writer.write(chunk);
  }

  onDrain(fn: () => void): void {
    this.writer.once('drain', fn);
  }

  /** End of input: the container reads EOF once it has read what was written. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.writer.end();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Drop both ends at once (the container exited or was removed). */
  destroy(): void {
    this.ended = true;
    this.writer.destroy();
    this.releaseReadEnd();
  }
}
