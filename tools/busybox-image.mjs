// Makes a tiny real image from busybox-static, as a `docker save` archive,
// with tar-stream: one layer holding /bin/busybox and a symlink per applet.
// Used by the quick start, the tests and the benchmarks, so berth never
// needs a registry to have something to run.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createWriteStream, readFileSync, renameSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

export const BUSYBOX = '/bin/busybox';

function applets() {
  const out = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' });
  return out.split('\n').filter((a) => a && a !== 'busybox');
}

function packLayer(symlinks = {}, omit = [], dirs = []) {
  const pack = tar.pack();
  const mtime = new Date(0);
  const dir = (name, mode = 0o755) => pack.entry({ name, type: 'directory', mode, mtime, uid: 0, gid: 0 });
  const file = (name, content, mode = 0o644) => pack.entry({ name, mode, mtime, uid: 0, gid: 0 }, content);
  for (const d of ['bin/', 'etc/', 'dev/', 'proc/', 'sys/', 'root/', 'home/', 'var/', 'usr/', 'usr/bin/']) {
    if (!omit.includes(d.slice(0, -1))) dir(d, d === 'root/' ? 0o700 : 0o755);
  }
  dir('tmp/', 0o1777);
  for (const d of dirs) dir(`${d.replace(/^\/+|\/+$/g, '')}/`);
  file('bin/busybox', readFileSync(BUSYBOX), 0o755);
  for (const a of applets()) pack.entry({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mtime, uid: 0, gid: 0 });
  file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  file('etc/group', 'root:x:0:\nnogroup:x:65534:\n');
  file('etc/hostname', 'busybox\n');
  for (const [name, target] of Object.entries(symlinks)) pack.entry({ name, type: 'symlink', linkname: target, mtime, uid: 0, gid: 0 });
  pack.finalize();
  return pack;
}

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

/**
 * Writes `busybox:latest` (or `tag`) as a docker-save archive to `path`.
 * `volumes` become the image's VOLUMEs; `symlinks` ({ 'data': '/etc' }) are
 * extra symlinks in the layer and `omit` top-level directories left out, for
 * hostile-image tests; `dirs` are extra empty directories (mount points).
 * Returns the image's config digest and the archive size.
 */
export async function writeBusyboxImage(path, { tag = 'busybox:latest', volumes, symlinks, omit, dirs } = {}) {
  const layer = await collect(packLayer(symlinks, omit, dirs));
  const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '2026-01-01T00:00:00Z',
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['sh'],
      ...(volumes ? { Volumes: Object.fromEntries(volumes.map((v) => [v, {}])) } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: '2026-01-01T00:00:00Z', created_by: 'berth tools/busybox-image.mjs' }],
  }));
  const configHex = createHash('sha256').update(config).digest('hex');
  const layerDir = diffId.slice('sha256:'.length);
  const outer = tar.pack();
  outer.entry({ name: `${configHex}.json` }, config);
  outer.entry({ name: `${layerDir}/`, type: 'directory' });
  outer.entry({ name: `${layerDir}/layer.tar` }, layer);
  outer.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [tag], Layers: [`${layerDir}/layer.tar`] }]));
  outer.finalize();
  const tmp = `${path}.tmp-${process.pid}`;
  await pipeline(outer, createWriteStream(tmp));
  renameSync(tmp, path);
  return { id: `sha256:${configHex}`, size: statSync(path).size };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? 'busybox.tar';
  const r = await writeBusyboxImage(out);
  console.log(`${out}: ${r.id} (${r.size} bytes)`);
}
