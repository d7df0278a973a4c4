import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { DigestMismatchError, InvalidArchiveError } from './errors.js';
import { entryPath } from './layer-apply.js';
import { readTarFile } from './tar-read.js';
import type { ImageConfig } from './types.js';

export type ArchiveFormat = 'docker-save' | 'oci-layout' | 'rootfs';

/** One image found in an archive, ready to be staged. All paths are in the spool dir. */
export interface ImagePlan {
  /** hex of sha256(config blob): the image id. */
  id: string;
  config: ImageConfig;
  created: string;
  diffIds: string[];
  layerFiles: string[];
  tags: string[];
}

interface SpooledFile { path: string; digest: string; size: number }

/** Copies a stream to a file, so the archive can be read more than once. */
export async function spoolStream(source: NodeJS.ReadableStream, file: string): Promise<string> {
  await pipeline(source, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  return file;
}

/**
 * Which of the three formats a tar is. A `docker save` archive has a
 * top-level manifest.json (newer docker writes an OCI layout as well; its
 * manifest.json carries the tags, so it wins); an OCI layout has oci-layout;
 * anything else is a root filesystem.
 */
export async function detectFormat(file: string): Promise<ArchiveFormat> {
  let docker = false;
  let oci = false;
  await readTarFile(file, async (h) => {
    if (h.type !== 'file' && h.type != null) return;
    const name = h.name.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
    if (name === 'manifest.json') docker = true;
    if (name === 'oci-layout') oci = true;
  }, { what: 'the archive' });
  return docker ? 'docker-save' : oci ? 'oci-layout' : 'rootfs';
}

/** Regular files of the outer archive, by normalised name; links resolved by name. */
export class SpooledArchive {
  private readonly files = new Map<string, SpooledFile>();
  private readonly links = new Map<string, string>();

  static async spool(file: string, dir: string): Promise<SpooledArchive> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const archive = new SpooledArchive();
    let n = 0;
    await readTarFile(file, async (h, body) => {
      const name = entryPath(h.name);
      if (h.type === 'symlink' || h.type === 'link') {
        const target = h.type === 'symlink' ? posix.join(posix.dirname(name), h.linkname ?? '') : (h.linkname ?? '');
        archive.links.set(name, entryPath(target, h.name));
        return;
      }
      if (h.type !== 'file' && h.type != null && h.type !== 'contiguous-file') return;
      const path = join(dir, String(n++));
      const hash = createHash('sha256');
      let size = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) { hash.update(chunk); size += chunk.length; cb(null, chunk); },
      });
      await pipeline(body, tap, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
      archive.files.set(name, { path, digest: `sha256:${hash.digest('hex')}`, size });
    }, { what: 'the archive' });
    return archive;
  }

  private resolve(name: string): string {
    let cur = entryPath(name);
    for (let i = 0; i < 16 && this.links.has(cur); i++) cur = this.links.get(cur) ?? cur;
    return cur;
  }

  get(name: string, what: string): SpooledFile {
    const f = this.files.get(this.resolve(name));
    if (!f) throw new InvalidArchiveError(`${what} ${name} is missing from the archive`);
    return f;
  }

  has(name: string): boolean {
    return this.files.has(this.resolve(name));
  }

  json(name: string, what: string): unknown {
    const f = this.get(name, what);
    try {
      return JSON.parse(readFileSync(f.path, 'utf8')) as unknown;
    } catch (error) {
      throw new InvalidArchiveError(`${what} ${name} is not valid JSON`, { cause: error });
    }
  }

  /** A content-addressed blob, checked against its digest (and size when known). */
  blob(digest: string, what: string, size?: number): SpooledFile {
    const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
    if (!m) throw new InvalidArchiveError(`${what} has an unsupported digest ${JSON.stringify(digest)}`);
    const f = this.get(`blobs/sha256/${m[1]}`, what);
    if (f.digest !== digest) throw new DigestMismatchError(`${what} blobs/sha256/${m[1]}`, digest, f.digest);
    if (size !== undefined && f.size !== size) {
      throw new InvalidArchiveError(`${what} ${digest} is ${f.size} bytes, its descriptor says ${size}`);
    }
    return f;
  }
}
