// Minimal typing for tar-stream's packer, limited to what the bench calls
// (no @types packages are installed in this workspace).
declare module 'tar-stream' {
  import type { Readable } from 'node:stream';

  export interface Headers {
    name: string;
    mode?: number;
    mtime?: Date;
    type?: 'file' | 'directory' | 'symlink';
  }

  export interface Pack extends Readable {
    entry(header: Headers, content?: Buffer | string): void;
    finalize(): void;
  }

  const tar: { pack(): Pack };
  export default tar;
}
