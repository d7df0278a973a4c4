/**
 * Detach keys (`docker attach --detach-keys`, attach's `detachKeys=`, exec's
 * `DetachKeys`): a key sequence on a terminal session's input that ends the
 * session and leaves the container or exec running. The syntax is moby's
 * term.ToBytes; matching follows moby/term's escape proxy.
 */

/** Docker's default, `ctrl-p,ctrl-q`. */
export const DEFAULT_DETACH_KEYS = Buffer.from([0x10, 0x11]);

/** `ctrl-@` .. `ctrl-_` are the control codes 0 .. 31, in this order. */
const CTRL = ['@', ...'abcdefghijklmnopqrstuvwxyz', '[', '\\', ']', '^', '_'];

/**
 * moby's term.ToBytes: comma-separated keys, each a single character,
 * `ctrl-X` or `DEL`. Throws its error text; callers wrap it in the
 * endpoint's own message.
 */
export function detachKeyBytes(keys: string): Buffer {
  const codes: number[] = [];
  for (const key of keys.split(',')) {
    if (Buffer.byteLength(key) === 1) {
      codes.push(Buffer.from(key)[0]!);
      continue;
    }
    const ctrl = key.startsWith('ctrl-') ? CTRL.indexOf(key.slice(5)) : -1;
    if (ctrl >= 0 && key.length === 6) codes.push(ctrl);
    else if (key === 'DEL') codes.push(127);
    else throw new Error(`Unknown character: '${key}'`);
  }
  return Buffer.from(codes);
}

/**
 * Watches a session's input for the detach sequence. Bytes that may begin
 * the sequence are held back until it is decided; a sequence that breaks off
 * gives them back, as moby's proxy does.
 */
export class DetachWatcher {
  private matched = 0;

  constructor(private readonly keys: Buffer) {}

  /** The input to pass on, and whether the sequence completed (input after it is dropped). */
  feed(chunk: Buffer): { pass: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          this.matched = 0;
          return { pass: Buffer.from(out), detach: true };
        }
        continue;
      }
      // A broken-off sequence: what was held goes through, then this byte (moby does not re-match it).
      for (let i = 0; i < this.matched; i++) out.push(this.keys[i]!);
      this.matched = 0;
      out.push(byte);
    }
    return { pass: Buffer.from(out), detach: false };
  }
}
