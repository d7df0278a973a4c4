import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DigestMismatchError, RegistryError, UnsupportedCompressionError } from '../errors.js';
import { parseImageConfig } from '../formats.js';
import { chainIds, normalizeTag } from '../refs.js';
import type { LayerStore } from '../store.js';
import type { ImageRecord } from '../types.js';
import { RegistryClient, registryErrorText, sha256Digest, type Credentials } from './client.js';
import { familiarName, formatRef, fullRef, parseRegistryRef, type RegistryRef } from './reference.js';
import { readBody, type TransportOptions } from './transport.js';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** An uncompressed layer (distribution's MediaTypeUncompressedLayer): a loaded layer's tar, whose digest is its diffID. */
  dockerLayerTar: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  schema1: 'application/vnd.docker.distribution.manifest.v1+json',
  schema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

const ACCEPT = [MEDIA.dockerManifest, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.ociIndex].join(', ');

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

export interface Platform { os: string; architecture: string; variant?: string }

/** The host's platform, as Go names it. */
export function hostPlatform(): Platform {
  const architecture = GOARCH[process.arch] ?? process.arch;
  return architecture === 'arm64' ? { os: 'linux', architecture, variant: 'v8' } : { os: 'linux', architecture };
}

/** `os[/arch[/variant]]`, Docker's `--platform`. */
export function parsePlatform(spec: string): Platform {
  const [os, arch, variant] = spec.toLowerCase().split('/');
  if (os === undefined || os === '' || (arch !== undefined && arch === '')) {
    throw new RegistryError('INVALID_PLATFORM', `"${spec}": unknown operating system or architecture: invalid argument`);
  }
  const host = hostPlatform();
  const p: Platform = { os, architecture: arch ?? host.architecture };
  if (variant !== undefined) p.variant = variant;
  else if (p.architecture === 'arm64') p.variant = 'v8';
  return p;
}

export type PullStatus =
  | 'Pulling fs layer' | 'Waiting' | 'Already exists' | 'Downloading' | 'Verifying Checksum' | 'Download complete'
  | 'Extracting' | 'Pull complete';

/** What a pull reports, in Docker's vocabulary; the API renders it as Docker's JSON progress lines. */
export type PullEvent =
  | { kind: 'start'; name: string; tagOrDigest: string }
  | { kind: 'layer'; id: string; status: PullStatus; current?: number; total?: number }
  | { kind: 'digest'; digest: string }
  | { kind: 'done'; upToDate: boolean; ref: string };

export interface PullOptions {
  platform?: Platform;
  credentials?: Credentials;
  transport?: TransportOptions;
  onEvent?: (e: PullEvent) => void;
  /** Layers downloaded at once (Docker's default: 3). */
  concurrency?: number;
}

interface Descriptor { mediaType?: string; digest: string; size?: number; platform?: { os?: string; architecture?: string; variant?: string }; urls?: string[] }

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function descriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v) || typeof v['digest'] !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(v['digest'])) {
    throw new RegistryError('REGISTRY_PROTOCOL', `${what} is not a valid descriptor`);
  }
  return v as unknown as Descriptor;
}

/**
 * moby's `DeprecatedSchema1ImageError` (daemon/images, Docker 28, which
 * removed schema 1). Docker 20.10 still pulled schema 1 with a deprecation
 * notice in the progress stream; berth refuses it as the current dockerd
 * does, with the full reference as moby's `ref.String()` writes it.
 */
const SCHEMA1_REMOVED = (fullRef: string): string =>
  `Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of ${fullRef} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/`;

interface Fetched { bytes: Buffer; mediaType: string; digest: string }

async function fetchManifest(client: RegistryClient, ref: RegistryRef, reference: string, scope: string): Promise<Fetched> {
  const res = await client.fetch('GET', `/v2/${ref.path}/manifests/${reference}`, { scope, headers: { Accept: ACCEPT } });
  const bytes = await readBody(res);
  const status = res.statusCode ?? 0;
  const shown = `${familiarName(ref)}${reference.startsWith('sha256:') ? `@${reference}` : `:${reference}`}`;
  if (status === 404) {
    throw new RegistryError('MANIFEST_UNKNOWN', `manifest for ${shown} not found: ${registryErrorText(bytes, status)}`);
  }
  if (status === 401 || status === 403) {
    throw new RegistryError('REGISTRY_UNAUTHORIZED', `pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${registryErrorText(bytes, status)}`);
  }
  if (status !== 200) throw new RegistryError('REGISTRY_PROTOCOL', `failed to get manifest ${shown}: ${registryErrorText(bytes, status)}`);
  const digest = sha256Digest(bytes);
  if (reference.startsWith('sha256:') && digest !== reference) throw new DigestMismatchError(`manifest ${shown}`, reference, digest);
  let mediaType = String(res.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; schemaVersion?: number; manifests?: unknown; layers?: unknown };
    if (typeof doc.mediaType === 'string') mediaType = doc.mediaType;
    else if (doc.schemaVersion === 1) mediaType = MEDIA.schema1;
    else if (![MEDIA.dockerManifest, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.ociIndex].includes(mediaType as never)) {
      mediaType = Array.isArray(doc.manifests) ? MEDIA.ociIndex : MEDIA.ociManifest;
    }
  } catch (error) {
    throw new RegistryError('REGISTRY_PROTOCOL', `manifest ${shown} is not JSON`, { cause: error });
  }
  if (mediaType === MEDIA.schema1 || mediaType === MEDIA.schema1Signed) throw new RegistryError('SCHEMA1_REMOVED', SCHEMA1_REMOVED(fullRef(ref)));
  return { bytes, mediaType, digest };
}

/** The manifest of an index matching the platform: os and architecture, then the variant if both say one. */
function choosePlatform(list: Descriptor[], want: Platform, name: string): Descriptor {
  const matches = list.filter((m) => m.platform?.os === want.os && m.platform.architecture === want.architecture);
  const exact = matches.find((m) => want.variant === undefined || m.platform?.variant === undefined || m.platform.variant === want.variant);
  if (!exact) {
    throw new RegistryError('NO_MATCHING_PLATFORM', `no matching manifest for ${want.os}/${want.architecture}${want.variant ? `/${want.variant}` : ''} in the manifest list entries (${name})`);
  }
  return exact;
}

/** A bounded pool: at most `n` of the tasks run at once. */
async function inPool<T>(n: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array<T>(tasks.length);
  let next = 0;
  let failed: unknown;
  const lane = async (): Promise<void> => {
    while (next < tasks.length && failed === undefined) {
      const i = next++;
      try {
        out[i] = await tasks[i]!();
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, lane));
  if (failed !== undefined) throw failed;
  return out;
}

/**
 * Pulls `ref` (`name[:tag]`, `name@sha256:…`) into the store: the manifest
 * (an index resolved for the platform), the config, then each layer not
 * stored yet, up to `concurrency` at once, streamed straight into the
 * store's staging area: hashed against its digest as it arrives, inflated,
 * unpacked, its diffID checked against the config. Everything is recorded
 * in one transaction at the end; a failure or a kill leaves no layer or
 * image behind (staging directories are removed here, or by the next open).
 */
export async function pullImage(store: LayerStore, refText: string, opts: PullOptions = {}): Promise<ImageRecord> {
  const ref = parseRegistryRef(refText);
  if (ref.tag === undefined && ref.digest === undefined) ref.tag = 'latest';
  const emit = opts.onEvent ?? (() => undefined);
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const scope = `repository:${ref.path}:pull`;
  const client = new RegistryClient(ref.domain, opts.credentials, opts.transport ?? {});
  const top = await fetchManifest(client, ref, reference, scope);
  // Only now: a pull that fails to find its manifest answers with a plain error, as dockerd's does.
  emit({ kind: 'start', name: ref.path, tagOrDigest: reference });
  let manifest = top;
  if (top.mediaType === MEDIA.dockerList || top.mediaType === MEDIA.ociIndex) {
    const doc = JSON.parse(top.bytes.toString('utf8')) as { manifests?: unknown };
    const list = (Array.isArray(doc.manifests) ? doc.manifests : []).map((m, i) => descriptor(m, `index entry ${i}`));
    const chosen = choosePlatform(list, opts.platform ?? hostPlatform(), formatRef(ref));
    manifest = await fetchManifest(client, ref, chosen.digest, scope);
  }
  if (manifest.mediaType !== MEDIA.dockerManifest && manifest.mediaType !== MEDIA.ociManifest) {
    throw new RegistryError('UNSUPPORTED_MANIFEST', `failed to pull ${formatRef(ref)}: unsupported manifest media type ${manifest.mediaType}`);
  }
  const doc = JSON.parse(manifest.bytes.toString('utf8')) as { config?: unknown; layers?: unknown };
  const configDesc = descriptor(doc.config, 'the manifest config');
  const layerDescs = (Array.isArray(doc.layers) ? doc.layers : []).map((l, i) => descriptor(l, `manifest layer ${i}`));
  for (const l of layerDescs) {
    if ((l.mediaType ?? '').includes('zstd')) throw new UnsupportedCompressionError(`layer ${l.digest} of ${formatRef(ref)}`, 'zstd');
  }

  const configRes = await client.fetch('GET', `/v2/${ref.path}/blobs/${configDesc.digest}`, { scope });
  const configBlob = await readBody(configRes, 64 << 20);
  if (configRes.statusCode !== 200) {
    throw new RegistryError('REGISTRY_PROTOCOL', `failed to get the config of ${formatRef(ref)}: ${registryErrorText(configBlob, configRes.statusCode ?? 0)}`);
  }
  const configDigest = sha256Digest(configBlob);
  if (configDigest !== configDesc.digest) throw new DigestMismatchError(`the config of ${formatRef(ref)}`, configDesc.digest, configDigest);
  const parsed = parseImageConfig(configBlob, `the config of ${formatRef(ref)}`);
  if (parsed.diffIds.length !== layerDescs.length) {
    throw new RegistryError('REGISTRY_PROTOCOL', `the manifest of ${formatRef(ref)} lists ${layerDescs.length} layers, its config ${parsed.diffIds.length} diffIDs`);
  }

  const id = configDigest.slice('sha256:'.length);
  const name = familiarName(ref);
  const tag = ref.digest === undefined ? normalizeTag(`${name}:${ref.tag ?? 'latest'}`) : undefined;
  const repoDigest = `${name}@${top.digest}`;
  const existing = store.findImage(`sha256:${id}`);
  const ids = chainIds(parsed.diffIds);
  const repository = `${ref.domain}/${ref.path}`;
  const shortId = (d: Descriptor): string => d.digest.slice('sha256:'.length, 'sha256:'.length + 12);

  const made: string[] = [];
  const blobs: { tmp: string; path: string }[] = [];
  try {
    const wanted = ids.map((chainId, i) => ({ chainId, i, desc: layerDescs[i]!, diffId: parsed.diffIds[i]! }))
      .filter((l) => !store.hasLayer(l.chainId));
    for (const [i, d] of layerDescs.entries()) {
      emit({ kind: 'layer', id: shortId(d), status: store.hasLayer(ids[i]!) ? 'Already exists' : 'Pulling fs layer' });
    }
    const concurrency = opts.concurrency ?? 3;
    for (const l of wanted.slice(concurrency)) emit({ kind: 'layer', id: shortId(l.desc), status: 'Waiting' });
    const staged = await inPool(concurrency, wanted.map((l) => async () => {
      const res = await client.fetch('GET', `/v2/${ref.path}/blobs/${l.desc.digest}`, { scope });
      if (res.statusCode !== 200) {
        const body = await readBody(res).catch(() => Buffer.alloc(0));
        throw new RegistryError('REGISTRY_PROTOCOL', `failed to get layer ${l.desc.digest} of ${formatRef(ref)}: ${registryErrorText(body, res.statusCode ?? 0)}`);
      }
      const total = l.desc.size ?? Number(res.headers['content-length'] ?? 0);
      const tmp = store.newLayerTmp();
      made.push(tmp);
      // The compressed blob is kept as it streams, so a push can send it again byte for byte.
      const blobTmp = store.blobPath(l.desc.digest, true);
      made.push(blobTmp);
      let last = 0;
      const unpacked = await store.unpackStream(res as AsyncIterable<Buffer>, join(tmp, 'diff'), {
        what: `layer ${l.desc.digest}`, expectDigest: l.desc.digest, keepBlobAt: blobTmp,
        onBytes: (current) => {
          // A line per ~1% is what the docker CLI's bars need; more only costs.
          if (current - last < total / 100 && current !== total) return;
          last = current;
          emit({ kind: 'layer', id: shortId(l.desc), status: 'Downloading', current, total });
        },
      });
      blobs.push({ tmp: blobTmp, path: store.blobPath(l.desc.digest) });
      if (unpacked.diffId !== l.diffId) throw new DigestMismatchError(`layer ${l.desc.digest} against the config's diffID`, l.diffId, unpacked.diffId);
      emit({ kind: 'layer', id: shortId(l.desc), status: 'Verifying Checksum' });
      emit({ kind: 'layer', id: shortId(l.desc), status: 'Download complete' });
      emit({ kind: 'layer', id: shortId(l.desc), status: 'Extracting', current: total, total });
      emit({ kind: 'layer', id: shortId(l.desc), status: 'Pull complete' });
      return { chainId: l.chainId, diffId: l.diffId, tmp, size: unpacked.size };
    }));
    const upToDate = existing !== undefined && (tag === undefined || existing.tags.includes(tag)) && existing.repoDigests.includes(repoDigest);
    // Blobs go into place only once every layer is in: content-addressed, so one
    // renamed before a commit that then fails is removed again, never wrong.
    const placed: string[] = [];
    for (const b of blobs) {
      if (existsSync(b.path)) continue;
      renameSync(b.tmp, b.path);
      placed.push(b.path);
    }
    let image: ImageRecord;
    try {
      image = store.commitImage({
      id, config: parsed.config, created: parsed.created, diffIds: parsed.diffIds, layerFiles: [],
      tags: tag === undefined ? [] : [tag], configBlob, repoDigests: [repoDigest],
      blobs: layerDescs.map((d, i) => ({
        diff_id: parsed.diffIds[i]!, digest: d.digest, media_type: d.mediaType ?? MEDIA.dockerLayer, size: d.size ?? 0, repository,
      })),
      }, staged);
    } catch (error) {
      for (const p of placed) rmSync(p, { force: true });
      throw error;
    }
    emit({ kind: 'digest', digest: top.digest });
    emit({ kind: 'done', upToDate, ref: tag ?? `${name}@${top.digest}` });
    return image;
  } finally {
    for (const tmp of made) rmSync(tmp, { recursive: true, force: true });
  }
}

export interface DistributionInfo {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: { architecture: string; os: string; variant?: string }[];
}

/**
 * What `GET /distribution/{name}/json` answers: the descriptor of the
 * manifest a reference resolves to in its registry, and the platforms it
 * offers (an index's entries, or the one in a manifest's config).
 */
export async function distributionInfo(refText: string, opts: { credentials?: Credentials; transport?: TransportOptions } = {}): Promise<DistributionInfo> {
  const ref = parseRegistryRef(refText);
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const scope = `repository:${ref.path}:pull`;
  const client = new RegistryClient(ref.domain, opts.credentials, opts.transport ?? {});
  const top = await fetchManifest(client, ref, reference, scope);
  const self = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
  const doc = JSON.parse(top.bytes.toString('utf8')) as { manifests?: unknown; config?: unknown };
  if (Array.isArray(doc.manifests)) {
    const Platforms = doc.manifests.map((m, i) => descriptor(m, `index entry ${i}`).platform)
      .filter((p): p is NonNullable<Descriptor['platform']> => p !== undefined)
      .map((p) => ({ architecture: p.architecture ?? '', os: p.os ?? '', ...(p.variant === undefined ? {} : { variant: p.variant }) }));
    return { Descriptor: self, Platforms };
  }
  const config = descriptor(doc.config, 'the manifest config');
  const res = await client.fetch('GET', `/v2/${ref.path}/blobs/${config.digest}`, { scope });
  const blob = await readBody(res, 64 << 20);
  if (res.statusCode !== 200) throw new RegistryError('REGISTRY_PROTOCOL', `failed to get the config of ${formatRef(ref)}: ${registryErrorText(blob, res.statusCode ?? 0)}`);
  const c = JSON.parse(blob.toString('utf8')) as { architecture?: string; os?: string; variant?: string };
  return { Descriptor: self, Platforms: [{ architecture: c.architecture ?? '', os: c.os ?? '', ...(c.variant === undefined ? {} : { variant: c.variant }) }] };
}
