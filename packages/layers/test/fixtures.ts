/** Test fixtures: layer tars and whole images built with tar-stream, in memory. */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { readdirSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar-stream';
import Database from 'better-sqlite3';

export interface FixtureEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  body?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
  mtime?: Date;
}

export const MTIME = new Date('2024-01-02T03:04:05Z');

export async function tarOf(entries: readonly FixtureEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: Buffer) => chunks.push(c));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = type === 'file' ? Buffer.from(e.body ?? '') : undefined;
    await new Promise<void>((resolve, reject) => {
      pack.entry({
        name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0,
        mtime: e.mtime ?? MTIME, linkname: e.linkname ?? null, devmajor: e.devmajor ?? 0, devminor: e.devminor ?? 0,
        ...(e.pax ? { pax: e.pax } : {}), ...(body ? { size: body.length } : {}),
      }, body, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** A three-layer image: base, then deletions (whiteout, opaque dir), then additions. */
export async function sampleLayers(): Promise<Buffer[]> {
  const base = await tarOf([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/tool', body: '#!/bin/sh\necho tool\n', mode: 0o4755 },
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\n' },
    { name: 'etc/hostname', body: 'base\n' },
    { name: 'opt/', type: 'directory' },
    { name: 'opt/old-a', body: 'old a' },
    { name: 'opt/old-b', body: 'old b' },
    { name: 'home/user/', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 },
    { name: 'home/user/notes', body: 'mine', uid: 1000, gid: 1001, mode: 0o640, pax: { 'SCHILY.xattr.user.note': 'kept' } },
    // a hardlink across directories
    { name: 'usr/lib/libx.so', body: 'ELF' },
    { name: 'bin/libx-link', type: 'link', linkname: 'usr/lib/libx.so' },
    { name: 'bin/sh', type: 'symlink', linkname: 'tool' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'run/fifo', type: 'fifo', mode: 0o600 },
  ]);
  const deletions = await tarOf([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/.wh.passwd' },
    { name: 'opt/', type: 'directory' },
    { name: 'opt/.wh..wh..opq' },
    { name: 'opt/new', body: 'new' },
  ]);
  const additions = await tarOf([
    { name: 'etc/hostname', body: 'top\n' },
    { name: 'srv/data/', type: 'directory', mode: 0o750, uid: 33, gid: 33 },
  ]);
  return [base, deletions, additions];
}

export interface FixtureImage {
  layers: Buffer[];
  config?: Record<string, unknown>;
  tags?: string[];
  /** Overrides the diffIDs written into the config (to fake a mismatch). */
  diffIds?: string[];
  /** The config's history (skopeo needs one entry per layer to write a schema 1 manifest). */
  history?: { created?: string; created_by?: string; empty_layer?: boolean }[];
}

export function configBlob(img: FixtureImage): Buffer {
  return Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-01-02T03:04:05Z',
    config: img.config ?? { Cmd: ['/bin/sh'], Env: ['PATH=/bin'], WorkingDir: '/srv', User: '1000', Labels: { a: 'b' }, Volumes: { '/data': {} }, ExposedPorts: { '80/tcp': {} } },
    rootfs: { type: 'layers', diff_ids: img.diffIds ?? img.layers.map((l) => `sha256:${sha(l)}`) },
    ...(img.history ? { history: img.history } : {}),
  }));
}

/** `docker save` layout: <hex>.json config, <hex>/layer.tar, manifest.json last (as some writers do). */
export async function dockerSave(images: readonly FixtureImage[]): Promise<Buffer> {
  const entries: FixtureEntry[] = [];
  const manifest = images.map((img) => {
    const config = configBlob(img);
    const layerNames = img.layers.map((l) => `${sha(l)}/layer.tar`);
    img.layers.forEach((l, i) => entries.push({ name: `${sha(l)}/`, type: 'directory' }, { name: layerNames[i] ?? '', body: l }));
    entries.push({ name: `${sha(config)}.json`, body: config });
    return { Config: `${sha(config)}.json`, RepoTags: img.tags ?? [], Layers: layerNames };
  });
  entries.push({ name: 'manifest.json', body: JSON.stringify(manifest) });
  return tarOf(entries);
}

/** An OCI layout packed like `tar -cf x.tar .`: ./-prefixed names, 0600 blobs, gzip layers. */
export async function ociArchive(img: FixtureImage, opts: { gzip?: boolean; refName?: string; tamper?: boolean } = {}): Promise<Buffer> {
  const blobs: Buffer[] = [];
  const layerDescs = img.layers.map((l) => {
    const blob = opts.gzip === false ? l : gzipSync(l);
    blobs.push(blob);
    return { mediaType: `application/vnd.oci.image.layer.v1.tar${opts.gzip === false ? '' : '+gzip'}`, digest: `sha256:${sha(blob)}`, size: blob.length };
  });
  const config = configBlob(img);
  blobs.push(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
    layers: layerDescs,
  }));
  blobs.push(manifest);
  const index = {
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length,
      ...(opts.refName ? { annotations: { 'org.opencontainers.image.ref.name': opts.refName } } : {}),
    }],
  };
  const entries: FixtureEntry[] = [
    { name: './', type: 'directory' },
    { name: './oci-layout', body: '{"imageLayoutVersion":"1.0.0"}', mode: 0o600 },
    { name: './index.json', body: JSON.stringify(index), mode: 0o600 },
  ];
  for (const b of blobs) {
    const body = opts.tamper === true && b === blobs[0] ? Buffer.concat([b.subarray(0, b.length - 1), Buffer.from([b[b.length - 1]! ^ 1])]) : b;
    entries.push({ name: `./blobs/sha256/${sha(b)}`, body, mode: 0o600 });
  }
  return tarOf(entries);
}

/** Every path under `root` with its type/mode/size (and link target), plus a dump of every table. */
export function snapshotStore(root: string): string {
  const lines: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (r.startsWith('metadata.db')) continue;
      const st = lstatSync(p);
      lines.push(`${r} ${st.mode.toString(8)} ${st.isFile() ? st.size : ''}${st.isSymbolicLink() ? ` -> ${readlinkSync(p)}` : ''}`);
      if (st.isDirectory()) walk(p, r);
    }
  };
  walk(root, '');
  const db = new Database(join(root, 'metadata.db'), { readonly: true });
  try {
    for (const t of ['layers', 'images', 'image_layers', 'tags', 'containers']) {
      lines.push(`${t}: ${JSON.stringify(db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all())}`);
    }
  } finally {
    db.close();
  }
  return lines.join('\n');
}
