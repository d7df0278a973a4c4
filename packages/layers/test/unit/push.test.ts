// Push to a real registry (Debian's docker-registry) through a pass-through
// HTTP proxy in this process that records each request, so the upload
// sequence can be compared with the docker daemon's: POST, one streamed
// PATCH with the whole blob and no Content-Range, PUT with the digest.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { pullImage } from '../../src/index.js';
import * as tar from 'tar-stream';
import { dockerSave, sampleLayers, sha } from '../fixtures.js';
import { tempStore, type TestStore } from './helpers.js';
import { type TestRegistry, skopeoPush, skopeoRawManifest, startRegistry } from '@berth/testing';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

interface Seen { method: string; path: string; contentRange: string | undefined; contentLength: string | undefined; bodyBytes: number; status: number }

/** Forwards every request to `target` unchanged (the Host header too, so the registry's Locations name the proxy). */
async function recordingProxy(target: string): Promise<{ host: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const [hostname, port] = target.split(':');
  const server = createServer((req, res) => {
    let bodyBytes = 0;
    const out = request({ hostname, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (up) => {
      seen.push({
        method: req.method ?? '', path: (req.url ?? '').split('?')[0] ?? '', contentRange: req.headers['content-range'],
        contentLength: req.headers['content-length'], bodyBytes, status: up.statusCode ?? 0,
      });
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.on('data', (c: Buffer) => { bodyBytes += c.length; });
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

let t: TestStore;
beforeEach(() => { t = tempStore(); });
afterEach(() => t.cleanup());

describe('push', () => {
  let reg: TestRegistry;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await recordingProxy(reg.host);
  });
  afterAll(async () => {
    await new Promise<void>((r) => proxy.server.close(() => r()));
    await reg.stop();
  });

  it("uploads each blob the registry lacks as the docker daemon does: POST, one PATCH of the whole blob, PUT ?digest= with no body", async () => {
    const layers = await sampleLayers();
    const path = join(t.dir, 'src.tar');
    writeFileSync(path, await dockerSave([{ layers, tags: ['src:1'] }]));
    await skopeoPush(reg, `docker-archive:${path}`, 'src:1');
    // Pulled from the registry's own address; pushed through the proxy's, so no cross-repository mount applies.
    const img = await pullImage(t.store, `${reg.host}/src:1`);
    t.store.tagImage(img.id, `${proxy.host}/dst:1`);
    await t.store.push(`${proxy.host}/dst:1`);

    const src = JSON.parse((await skopeoRawManifest(reg, 'src:1')).toString()) as { layers: { digest: string; size: number }[] };
    const dst = JSON.parse((await skopeoRawManifest(reg, 'dst:1')).toString()) as { layers: { digest: string; size: number }[] };
    // The bytes it was pulled as: the same layer digests.
    expect(dst.layers.map((l) => l.digest)).toEqual(src.layers.map((l) => l.digest));

    const uploads = proxy.seen.filter((s) => s.path.includes('/blobs/uploads/'));
    const patches = uploads.filter((s) => s.method === 'PATCH');
    const puts = uploads.filter((s) => s.method === 'PUT');
    // Three layers and the config.
    expect(uploads.filter((s) => s.method === 'POST')).toHaveLength(4);
    expect(patches).toHaveLength(4);
    expect(puts).toHaveLength(4);
    for (const p of patches) {
      expect(p).toMatchObject({ contentRange: undefined, status: 202 });
      expect(String(p.bodyBytes)).toBe(p.contentLength);
    }
    // Each layer whole in one PATCH.
    expect(patches.map((p) => p.bodyBytes)).toEqual(expect.arrayContaining(src.layers.map((l) => l.size)));
    for (const p of puts) expect(p).toMatchObject({ bodyBytes: 0, status: 201 });
  });

  it('a loaded image: save gives back the very layer tars it was loaded from, push sends them with digest = diffID (skopeo inspect)', async () => {
    const layers = await sampleLayers();
    const [img] = (await t.store.importImage(Readable.from(await dockerSave([{ layers, tags: ['loaded:1'] }])))).images;
    expect(img!.diffIds).toEqual(layers.map((l) => `sha256:${sha(l)}`));

    const saved = await entriesOf(await t.store.save(['loaded:1']));
    for (const l of layers) expect(saved.get(`${sha(l)}/layer.tar`)?.equals(l)).toBe(true);
    // Nothing rebuilt is left behind.
    expect(readdirSync(join(t.root, 'tmp'))).toEqual([]);

    t.store.tagImage('loaded:1', `${reg.host}/loaded:1`);
    await t.store.push(`${reg.host}/loaded:1`);
    const manifest = JSON.parse((await skopeoRawManifest(reg, 'loaded:1')).toString()) as { layers: { digest: string; size: number; mediaType: string }[]; config: { digest: string } };
    expect(manifest.layers).toEqual(layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: `sha256:${sha(l)}`, size: l.length })));
    expect(manifest.config.digest).toBe(img!.id);
    // A second push finds every blob there.
    await t.store.push(`${reg.host}/loaded:1`);
    expect(readdirSync(join(t.root, 'tmp'))).toEqual([]);
  });

  it('refuses to save or push a loaded layer whose files changed since (the rebuilt tar misses its diffID), sending nothing', async () => {
    const layers = await sampleLayers();
    const [img] = (await t.store.importImage(Readable.from(await dockerSave([{ layers, tags: ['changed:1'] }])))).images;
    writeFileSync(join(t.root, 'layers', img!.layers[0]!, 'diff/etc/passwd'), 'root:x:0:0:changed:/root:/bin/sh\n');
    await expect(t.store.save(['changed:1'])).rejects.toThrow(/files changed since it was loaded/);
    t.store.tagImage('changed:1', `${reg.host}/changed:1`);
    await expect(t.store.push(`${reg.host}/changed:1`)).rejects.toMatchObject({ code: 'SAVE_UNSUPPORTED' });
    await expect(skopeoRawManifest(reg, 'changed:1')).rejects.toThrow();
    expect(readdirSync(join(t.root, 'tmp'))).toEqual([]);
  });
});

async function entriesOf(stream: NodeJS.ReadableStream): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
      out.set(entry.header.name, Buffer.concat(chunks));
    }
  })();
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

describe('save of loaded layers', () => {
  it('a layer tar used on two different parents is stored twice, and both copies rebuild to the same tar', async () => {
    const [base, shared] = await sampleLayers();
    const archive = await dockerSave([{ layers: [shared!], tags: ['alone:1'] }, { layers: [base!, shared!], tags: ['stacked:1'] }]);
    const { images } = await t.store.importImage(Readable.from(archive));
    const stacked = images.find((i) => i.tags.includes('stacked:1'))!;
    const alone = images.find((i) => i.tags.includes('alone:1'))!;
    expect(stacked.layers[1]).not.toBe(alone.layers[0]);
    for (const ref of ['stacked:1', 'alone:1']) {
      const saved = await entriesOf(await t.store.save([ref]));
      expect(saved.get(`${sha(shared!)}/layer.tar`)?.equals(shared!)).toBe(true);
    }
  });
});
