/**
 * A store opened with `unpackInWorker` (as the supervisor opens it) has its
 * worker read a file itself, into buffers it reads into again; a stream's
 * chunks are sent to it. Imported twice in a row by one worker, from a path
 * and from a stream, and on the calling thread: every layer's files must be
 * the same, and `save` must rebuild the exact layer tars (their diffIDs).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LinuxSyscalls } from '@berth/syscall';
import { describeRoot } from '@berth/testing';
// The built package: the worker thread runs dist/worker/ingest-worker.js, which src/ has no .js of.
import { LayerStore } from '@berth/layers';
import { dockerSave, ociArchive, tarOf } from '../fixtures.js';

/** Every entry under `dir`: type, mode, owner, size, link target, content digest. */
function tree(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const p = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(join(dir, p));
    const what = st.isFile() ? createHash('sha256').update(readFileSync(join(dir, p))).digest('hex')
      : st.isSymbolicLink() ? `-> ${readlinkSync(join(dir, p))}` : '';
    out.push(`${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs} ${what}`);
    if (st.isDirectory()) out.push(...tree(dir, p));
  }
  return out;
}

async function bigLayer(seed: number): Promise<Buffer> {
  // Files of 1.3 MB: the 1 MiB reads end inside them, and inside their headers' neighbours.
  return tarOf([
    { name: `l${seed}/`, type: 'directory', mode: 0o755 },
    ...[0, 1, 2].map((i) => ({ name: `l${seed}/blob-${i}`, body: randomBytes(1_300_000 + i * 777), mode: 0o640 })),
    { name: `l${seed}/small`, body: `layer ${seed}\n` },
    { name: `l${seed}/link`, type: 'symlink' as const, linkname: 'small' },
  ]);
}

describeRoot('importing a file on the worker thread', () => {
  let dir: string;
  let archive: string;
  let oci: string;
  const stores: LayerStore[] = [];
  const open = (name: string, unpackInWorker: boolean): LayerStore => {
    const s = LayerStore.open(join(dir, name), { syscalls: new LinuxSyscalls(), unpackInWorker });
    stores.push(s);
    return s;
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-worker-import-'));
    const layers = [await bigLayer(0), await bigLayer(1), await bigLayer(2)];
    archive = join(dir, 'image.tar');
    writeFileSync(archive, await dockerSave([{ layers, tags: ['big:1'] }]));
    // An OCI layout with gzip layers: these are inflated on zlib's thread while the archive streams.
    oci = join(dir, 'oci.tar');
    writeFileSync(oci, await ociArchive({ layers, tags: ['big-oci:1'] }));
  });
  afterAll(() => {
    for (const s of stores) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same layers as the calling thread, twice in a row, and save rebuilds them', async () => {
    const reference = open('calling', false);
    const [want] = (await reference.importImage(archive)).images;
    const layerTrees = (s: LayerStore, id: string): string[][] => s.inspectImage(id).layers.map((l) => tree(join(s.root, 'layers', l, 'diff')));
    const expected = layerTrees(reference, want!.id);
    expect(expected.flat().length).toBeGreaterThan(15);
    for (const run of [1, 2]) {
      const s = open(`worker-${run}`, true);
      const progress: { bytesDone: number; bytesTotal?: number }[] = [];
      const [got] = (await s.importImage(archive, { onProgress: (p) => progress.push(p) })).images;
      // The worker reads the file and tells how far it got.
      expect(progress.length).toBeGreaterThan(3);
      expect(progress.at(-1)).toEqual({ bytesDone: statSync(archive).size, bytesTotal: statSync(archive).size });
      expect(got!.id).toBe(want!.id);
      expect(layerTrees(s, got!.id)).toEqual(expected);
      // The same bytes as a stream (as `docker load` sends them): nothing recycled, the same result.
      const fromStream = open(`worker-stream-${run}`, true);
      const [viaStream] = (await fromStream.importImage(createReadStream(archive, { highWaterMark: 64 * 1024 }))).images;
      expect(layerTrees(fromStream, viaStream!.id)).toEqual(expected);
      const saved = await s.save([got!.id]);
      const chunks: Buffer[] = [];
      for await (const c of saved as AsyncIterable<Buffer>) chunks.push(c);
      expect(Buffer.concat(chunks).length).toBeGreaterThan(3 * 3_900_000);
    }
  });

  it('unpacks gzip layers of an OCI layout on the way, as the calling thread does', async () => {
    const calling = open('oci-calling', false);
    const worker = open('oci-worker', true);
    const [a] = (await calling.importImage(oci)).images;
    const [b] = (await worker.importImage(oci)).images;
    expect(b!.id).toBe(a!.id);
    expect(b!.diffIds).toEqual(a!.diffIds);
    const trees = (s: LayerStore, id: string): string[][] => s.inspectImage(id).layers.map((l) => tree(join(s.root, 'layers', l, 'diff')));
    expect(trees(worker, b!.id)).toEqual(trees(calling, a!.id));
  });
});
