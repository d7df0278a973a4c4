/**
 * Docker's multiplexed stream framing (attach and logs without a TTY):
 * an 8-byte header `[type, 0, 0, 0, size uint32 BE]` then `size` bytes.
 * Frames arrive split across and merged within TCP chunks, so the demuxer
 * keeps a partial header/payload between pushes.
 */

export const STREAM_STDIN = 0;
export const STREAM_STDOUT = 1;
export const STREAM_STDERR = 2;
export const STREAM_SYSTEM = 3;

export type StreamType = 0 | 1 | 2 | 3;

export interface Frame {
  stream: StreamType;
  payload: Buffer;
}

const HEADER = 8;

export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (frame: Frame) => void) {}

  /** Feeds bytes as they arrive; calls onFrame for every complete frame. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= HEADER) {
      const type = this.pending[0] ?? 0;
      if (type > STREAM_SYSTEM) {
        throw new Error(`unexpected stream type ${type} in multiplexed stream header`);
      }
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER + size) return;
      const payload = this.pending.subarray(HEADER, HEADER + size);
      this.pending = this.pending.subarray(HEADER + size);
      this.onFrame({ stream: type as StreamType, payload });
    }
  }

  /** Bytes of an incomplete frame left when the stream ended (0 when it ended cleanly). */
  get leftover(): number {
    return this.pending.length;
  }
}

/** Encodes one frame (used by tests and by fake servers). */
export function encodeFrame(stream: StreamType, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(HEADER);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** Splits a whole buffer into frames (for tests and small log reads). */
export function demuxAll(data: Buffer): Frame[] {
  const frames: Frame[] = [];
  const demuxer = new Demuxer((f) => frames.push(f));
  demuxer.push(data);
  if (demuxer.leftover !== 0) throw new Error(`multiplexed stream ended inside a frame (${demuxer.leftover} bytes left)`);
  return frames;
}
