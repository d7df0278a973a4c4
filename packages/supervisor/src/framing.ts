/**
 * Docker's multiplexed stream framing (attach and logs without a TTY): an
 * 8-byte header `[type, 0, 0, 0, size uint32 BE]` then the payload.
 */
export const STREAM_STDIN = 0;
export const STREAM_STDOUT = 1;
export const STREAM_STDERR = 2;
export const STREAM_SYSTEM_ERR = 3;

export type StreamName = 'stdout' | 'stderr';

export function streamType(stream: StreamName): number {
  return stream === 'stdout' ? STREAM_STDOUT : STREAM_STDERR;
}

export function frame(type: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** The inverse, for tests and clients: split a buffer of frames; a trailing partial frame is left in `rest`. */
export function deframe(buf: Buffer): { frames: { type: number; payload: Buffer }[]; rest: Buffer } {
  const frames: { type: number; payload: Buffer }[] = [];
  let off = 0;
  while (buf.length - off >= 8) {
    const size = buf.readUInt32BE(off + 4);
    if (buf.length - off - 8 < size) break;
    frames.push({ type: buf.readUInt8(off), payload: buf.subarray(off + 8, off + 8 + size) });
    off += 8 + size;
  }
  return { frames, rest: buf.subarray(off) };
}
