import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { LayerStoreError } from './errors.js';
import { randomSuffix, tryNormalizeTag } from './refs.js';
import type { LayerStore } from './store.js';
import type { ImageRecord } from './types.js';

/**
 * `docker save`: a docker-save archive (`manifest.json`, `<config>.json`,
 * `<diffID>/layer.tar`, `repositories`) of the images `refs` name. Layers
 * are kept unpacked, and a re-tar would not give the bytes their diffID
 * names, so each `layer.tar` is the compressed blob the layer was pulled as,
 * inflated, or for a layer loaded from an archive the tar rebuilt from its
 * tar-split record: exactly the diffID's bytes either way. Everything is
 * checked before the first byte goes out; a layer with neither is refused
 * by name.
 */
export async function saveImages(store: LayerStore, refs: readonly string[]): Promise<Readable> {
  // Layers loaded from an archive: their tars rebuilt (and checked) before the first byte goes out.
  const rebuiltFiles: string[] = [];
  const cleanup = (): void => { for (const f of rebuiltFiles) rmSync(f, { force: true }); };
  let plans;
  try {
    plans = await planSave(store, refs, rebuiltFiles);
  } catch (error) {
    cleanup();
    throw error;
  }
  const out = writeSave(store, plans);
  out.on('close', cleanup);
  return out;
}

type SavePlan = { image: ImageRecord; config: Buffer; layers: { diffId: string; path: string; gzip: boolean; rebuilt: boolean }[]; tags: string[] };

async function planSave(store: LayerStore, refs: readonly string[], rebuiltFiles: string[]): Promise<SavePlan[]> {
  const plans: SavePlan[] = [];
  for (const ref of refs) {
    const image = store.inspectImage(ref);
    const config = store.configBlob(ref);
    if (!config) throw new LayerStoreError('SAVE_UNSUPPORTED', `failed to save ${ref}: berth did not keep this image's config blob; pull or load it again`);
    const layers: SavePlan['layers'] = [];
    for (const [i, diffId] of image.diffIds.entries()) {
      const blob = store.layerBlobs(diffId).map((b) => ({ ...b, path: store.keptBlob(b.digest) })).find((b) => b.path !== undefined);
      if (blob?.path) {
        layers.push({ diffId, path: blob.path, gzip: blob.mediaType.includes('gzip'), rebuilt: false });
        continue;
      }
      const rebuilt = await store.rebuiltLayerTar(image.layers[i] ?? '', diffId);
      if (rebuilt !== undefined) {
        rebuiltFiles.push(rebuilt);
        layers.push({ diffId, path: rebuilt, gzip: false, rebuilt: true });
        continue;
      }
      throw new LayerStoreError('SAVE_UNSUPPORTED', `failed to save ${ref}: layer ${diffId} has neither a kept blob nor a tar-split record to rebuild its tar from (load or pull the image again)`);
    }
    // As Docker: saved by a tag, that tag goes with it; by id, none.
    const tag = tryNormalizeTag(ref);
    const tags = tag !== undefined && image.tags.includes(tag) ? [tag] : [];
    plans.push({ image, config, layers, tags });
  }
  return plans;
}

function writeSave(store: LayerStore, plans: SavePlan[]): PassThrough {
  const pack = tar.pack();
  const out = new PassThrough();
  const entry = (name: string, body: Buffer | string): Promise<void> =>
    new Promise((resolve, reject) => pack.entry({ name, mode: 0o644, mtime: new Date(0) }, body, (e) => (e ? reject(e) : resolve())));
  const write = async (): Promise<void> => {
    const written = new Set<string>();
    const manifest: unknown[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const p of plans) {
      const configName = `${p.image.id.slice('sha256:'.length)}.json`;
      if (!written.has(configName)) await entry(configName, p.config);
      written.add(configName);
      for (const l of p.layers) {
        const name = `${l.diffId.slice('sha256:'.length)}/layer.tar`;
        if (written.has(name)) continue;
        written.add(name);
        let file = l.path;
        let temp: string | undefined;
        if (l.gzip) {
          temp = join(store.root, 'tmp', `save-${randomSuffix()}`);
          await pipeline(createReadStream(l.path), createGunzip(), createWriteStream(temp, { mode: 0o600 }));
          file = temp;
        }
        try {
          const size = statSync(file).size;
          await new Promise<void>((resolve, reject) => {
            const sink = pack.entry({ name, mode: 0o644, size, mtime: new Date(0) }, (e) => (e ? reject(e) : resolve()));
            createReadStream(file, { highWaterMark: 1 << 20 }).on('error', reject).pipe(sink);
          });
        } finally {
          if (temp) rmSync(temp, { force: true });
        }
      }
      manifest.push({ Config: configName, RepoTags: p.tags.length > 0 ? p.tags : null, Layers: p.layers.map((l) => `${l.diffId.slice('sha256:'.length)}/layer.tar`) });
      for (const t of p.tags) {
        const colon = t.lastIndexOf(':');
        (repositories[t.slice(0, colon)] ??= {})[t.slice(colon + 1)] = p.image.id.slice('sha256:'.length);
      }
    }
    await entry('manifest.json', JSON.stringify(manifest));
    if (Object.keys(repositories).length > 0) await entry('repositories', JSON.stringify(repositories));
    pack.finalize();
  };
  pack.pipe(out);
  write().catch((error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))));
  return out;
}
