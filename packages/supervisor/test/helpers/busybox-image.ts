/**
 * A docker-save archive of a one-layer busybox image, made from the host's
 * /bin/busybox (busybox-static): `bin/busybox` plus applet symlinks.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pack } from 'tar-stream';

const APPLETS = ['sh', 'echo', 'cat', 'ls', 'sleep', 'true', 'false', 'mkdir', 'rm', 'touch', 'wc', 'head', 'tr', 'env', 'id', 'kill', 'ps'];

function tarOf(entries: { name: string; body?: Buffer; type?: 'file' | 'symlink' | 'directory'; linkname?: string; mode?: number }[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve) => p.on('end', () => resolve(Buffer.concat(chunks))));
  for (const e of entries) {
    p.entry({ name: e.name, type: e.type ?? 'file', mode: e.mode ?? 0o755, ...(e.linkname ? { linkname: e.linkname } : {}) }, e.body);
  }
  p.finalize();
  return done;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** `history`: give the config one history entry for its layer (skopeo needs it to write a schema 1 manifest). */
export async function busyboxImageArchive(tag = 'berth-test/busybox:latest', busybox = '/bin/busybox', opts: { history?: boolean } = {}): Promise<Buffer> {
  const layer = await tarOf([
    { name: 'bin', type: 'directory' },
    { name: 'bin/busybox', body: readFileSync(busybox) },
    ...APPLETS.map((a) => ({ name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox', mode: 0o777 })),
    { name: 'tmp', type: 'directory', mode: 0o1777 },
    { name: 'data', type: 'directory' },
  ]);
  const diffId = sha(layer);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z',
    config: { Cmd: ['sh'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
    ...(opts.history === true ? { history: [{ created: '2024-01-01T00:00:00Z', created_by: 'busybox' }] } : {}),
  }));
  const configName = `${sha(config)}.json`;
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: [`${diffId}/layer.tar`] }]));
  return tarOf([
    { name: `${diffId}/layer.tar`, body: layer, mode: 0o644 },
    { name: configName, body: config, mode: 0o644 },
    { name: 'manifest.json', body: manifest, mode: 0o644 },
  ]);
}
