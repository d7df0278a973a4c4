// The header codec tar-stream's extract uses; berth's TarParser frames the
// stream itself (so chunks are not copied) and decodes headers with it.
declare module 'tar-stream/headers.js' {
  export function decode(buf: Buffer, filenameEncoding: string, allowUnknownFormat: boolean): import('tar-stream').Headers | null;
  export function decodePax(buf: Buffer): Record<string, string>;
  export function decodeLongPath(buf: Buffer, encoding: string): string;
}
