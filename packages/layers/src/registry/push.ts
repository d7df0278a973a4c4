import { createReadStream, rmSync, statSync } from 'node:fs';
import { RegistryError } from '../errors.js';
import { tap } from '../tar-read.js';
import type { LayerStore } from '../store.js';
import { RegistryClient, registryErrorText, sha256Digest, type Credentials } from './client.js';
import { MEDIA } from './pull.js';
import { familiarName, parseRegistryRef } from './reference.js';
import { readBody, type TransportOptions } from './transport.js';

export type PushEvent =
  | { kind: 'start'; repository: string }
  | { kind: 'layer'; id: string; status: 'Preparing' | 'Pushing' | 'Pushed' | 'Layer already exists' | `Mounted from ${string}`; current?: number; total?: number }
  | { kind: 'done'; tag: string; digest: string; size: number };

export interface PushOptions {
  credentials?: Credentials;
  transport?: TransportOptions;
  onEvent?: (e: PushEvent) => void;
}

interface Blob { digest: string; size: number; mediaType: string; path?: string; bytes?: Buffer; diffId?: string; from?: string }

/**
 * `docker push NAME[:TAG]`: the blobs the registry lacks (HEAD first; a
 * cross-repository mount from where the blob was pulled, on the same
 * registry; else an upload as the docker daemon makes it: POST, one streamed
 * PATCH, PUT with the digest), then the manifest. Layers are kept
 * unpacked, and a re-tar would change their digests, so a layer is pushed
 * as the compressed blob it was pulled as (kept under `blobs/`); a layer
 * berth has no blob for (loaded from an archive) is refused by name.
 */
export async function pushImage(store: LayerStore, refText: string, opts: PushOptions = {}): Promise<{ digest: string; size: number }> {
  const ref = parseRegistryRef(refText);
  const tag = ref.tag ?? 'latest';
  const local = `${familiarName(ref)}:${tag}`;
  const image = store.inspectImage(local);
  const config = store.configBlob(local);
  if (!config) throw new RegistryError('PUSH_UNSUPPORTED', `failed to push ${local}: berth did not keep this image's config blob (it was stored before berth kept them); pull or load it again`);
  const emit = opts.onEvent ?? (() => undefined);
  const repository = `${ref.domain}/${ref.path}`;
  // Layers loaded from an archive have no compressed blob: their tars are rebuilt from the
  // tar-split record (checked against the diffID) and pushed uncompressed, digest = diffID.
  const rebuilt: string[] = [];
  const configBytes: Buffer = config;
  try {
    return await pushLayers();
  } finally {
    for (const f of rebuilt) rmSync(f, { force: true });
  }

  async function pushLayers(): Promise<{ digest: string; size: number }> {
    const layers: Blob[] = [];
    for (const [i, diffId] of image.diffIds.entries()) {
      const known = store.layerBlobs(diffId).map((b) => ({ ...b, path: store.keptBlob(b.digest) }));
      const kept = known.find((b) => b.path !== undefined);
      if (!kept) {
        const path = await store.rebuiltLayerTar(image.layers[i] ?? '', diffId);
        if (path !== undefined) {
          rebuilt.push(path);
          const from = known.find((b) => b.digest === diffId && b.repository.startsWith(`${ref.domain}/`) && b.repository !== repository)
            ?.repository.slice(ref.domain.length + 1);
          layers.push({ digest: diffId, size: statSync(path).size, mediaType: MEDIA.dockerLayerTar, diffId, path, ...(from === undefined ? {} : { from }) });
          continue;
        }
      }
      // Prefer a blob kept on disk; a record without one still lets a registry that has the blob skip it.
      const same = kept ?? known[0];
      if (!same) {
        throw new RegistryError('PUSH_UNSUPPORTED', `failed to push ${local}: layer ${diffId} has neither a kept blob nor a tar-split record to rebuild its tar from (load or pull the image again)`);
      }
      const from = known.find((b) => b.digest === same.digest && b.repository.startsWith(`${ref.domain}/`) && b.repository !== repository)
        ?.repository.slice(ref.domain.length + 1);
      layers.push({
        digest: same.digest, size: same.path === undefined ? same.size : statSync(same.path).size, mediaType: same.mediaType, diffId,
        ...(same.path === undefined ? {} : { path: same.path }), ...(from === undefined ? {} : { from }),
      });
    }
    const ociLayers = layers.some((l) => l.mediaType.startsWith('application/vnd.oci.'));
    const configBlob: Blob = { digest: sha256Digest(configBytes), size: configBytes.length, mediaType: ociLayers ? MEDIA.ociConfig : MEDIA.dockerConfig, bytes: configBytes };
    emit({ kind: 'start', repository: familiarName(ref) });
    const scope = `repository:${ref.path}:pull,push`;
    const client = new RegistryClient(ref.domain, opts.credentials, opts.transport ?? {});
    const shortId = (b: Blob): string => (b.diffId ?? b.digest).slice('sha256:'.length, 'sha256:'.length + 12);
    for (const l of layers) emit({ kind: 'layer', id: shortId(l), status: 'Preparing' });

    const upload = async (b: Blob, report: boolean): Promise<void> => {
      const head = await client.fetch('HEAD', `/v2/${ref.path}/blobs/${b.digest}`, { scope });
      head.resume();
      if (head.statusCode === 200) {
        if (report) emit({ kind: 'layer', id: shortId(b), status: 'Layer already exists' });
        return;
      }
      if (head.statusCode === 401 || head.statusCode === 403) throw unauthorized(ref.path, await readBody(head).catch(() => Buffer.alloc(0)), head.statusCode);
      const mount = b.from === undefined ? '' : `?mount=${encodeURIComponent(b.digest)}&from=${encodeURIComponent(b.from)}`;
      const start = await client.fetch('POST', `/v2/${ref.path}/blobs/uploads/${mount}`, { scope, headers: { 'Content-Length': '0' }, body: Buffer.alloc(0) });
      const startBody = await readBody(start).catch(() => Buffer.alloc(0));
      if (start.statusCode === 201) {
        if (report) emit({ kind: 'layer', id: shortId(b), status: `Mounted from ${b.from ?? ''}` });
        return;
      }
      if (start.statusCode !== 202 || start.headers.location === undefined) {
        if (start.statusCode === 401 || start.statusCode === 403) throw unauthorized(ref.path, startBody, start.statusCode);
        throw new RegistryError('REGISTRY_PROTOCOL', `failed to start the upload of ${b.digest}: ${registryErrorText(startBody, start.statusCode ?? 0)}`);
      }
      if (b.path === undefined && b.bytes === undefined) {
        throw new RegistryError('PUSH_UNSUPPORTED', `failed to push ${local}: the registry lacks layer ${b.digest}, and berth keeps no copy of that blob (the layer was stored before it was pulled); pull the image again`);
      }
      let sent = 0;
      // A transform counts what goes out: a 'data' listener would let bytes flow before the request pipes them.
      const body = b.bytes ?? createReadStream(b.path ?? '', { highWaterMark: 1 << 20 }).pipe(tap((c) => {
        sent += c.length;
        if (report) emit({ kind: 'layer', id: shortId(b), status: 'Pushing', current: sent, total: b.size });
      }));
      // As the docker daemon sends a blob (distribution's client, blobWriter.ReadFrom then
      // Commit): the whole blob in one streamed PATCH without Content-Range, then a PUT with
      // the digest and no body. Every registry Docker pushes to takes this sequence.
      const patch = await client.fetch('PATCH', new URL(start.headers.location, client.baseUrl()).toString(), {
        scope, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(b.size) }, body,
      });
      const patchBody = await readBody(patch).catch(() => Buffer.alloc(0));
      if (patch.statusCode !== 202 || patch.headers.location === undefined) {
        throw new RegistryError('REGISTRY_PROTOCOL', `failed to upload ${b.digest}: ${registryErrorText(patchBody, patch.statusCode ?? 0)}`);
      }
      const location = new URL(patch.headers.location, client.baseUrl());
      location.searchParams.set('digest', b.digest);
      const put = await client.fetch('PUT', location.toString(), { scope, headers: { 'Content-Length': '0' }, body: Buffer.alloc(0) });
      const putBody = await readBody(put).catch(() => Buffer.alloc(0));
      if (put.statusCode !== 201) throw new RegistryError('REGISTRY_PROTOCOL', `failed to upload ${b.digest}: ${registryErrorText(putBody, put.statusCode ?? 0)}`);
      if (report) emit({ kind: 'layer', id: shortId(b), status: 'Pushed' });
    };

    for (const l of layers) await upload(l, true);
    await upload(configBlob, false);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: ociLayers ? MEDIA.ociManifest : MEDIA.dockerManifest,
      config: { mediaType: configBlob.mediaType, size: configBlob.size, digest: configBlob.digest },
      layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
    }, null, 3));
    const res = await client.fetch('PUT', `/v2/${ref.path}/manifests/${tag}`, {
      scope, headers: { 'Content-Type': ociLayers ? MEDIA.ociManifest : MEDIA.dockerManifest }, body: manifest,
    });
    const resBody = await readBody(res).catch(() => Buffer.alloc(0));
    if (res.statusCode !== 201) {
      if (res.statusCode === 401 || res.statusCode === 403) throw unauthorized(ref.path, resBody, res.statusCode);
      throw new RegistryError('REGISTRY_PROTOCOL', `failed to put the manifest of ${local}: ${registryErrorText(resBody, res.statusCode ?? 0)}`);
    }
    const digest = sha256Digest(manifest);
    for (const l of layers) store.recordLayerBlob({ diffId: l.diffId ?? '', digest: l.digest, mediaType: l.mediaType, size: l.size, repository });
    store.recordRepoDigest(local, `${familiarName(ref)}@${digest}`);
    emit({ kind: 'done', tag, digest, size: manifest.length });
    return { digest, size: manifest.length };
  }
}

function unauthorized(path: string, body: Buffer, status: number): RegistryError {
  return new RegistryError('REGISTRY_UNAUTHORIZED', `denied: requested access to the resource is denied (${path}: ${registryErrorText(body, status)})`);
}
