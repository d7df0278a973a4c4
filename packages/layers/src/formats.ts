import { DigestMismatchError, InvalidArchiveError, UnsupportedCompressionError } from './errors.js';
import { digestOf, type ArchiveContents, type ImagePlan } from './archive.js';
import { sha256Hex, tryNormalizeTag } from './refs.js';
import type { ImageConfig } from './types.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;
}

/** The Config fields berth exposes, nulls dropped (docker writes `"Cmd": null`). */
export function pickConfig(raw: unknown): ImageConfig {
  const c = isObject(raw) ? raw : {};
  const out: ImageConfig = {};
  const cmd = strings(c['Cmd']); if (cmd) out.Cmd = cmd;
  const ep = strings(c['Entrypoint']); if (ep) out.Entrypoint = ep;
  const env = strings(c['Env']); if (env) out.Env = env;
  if (typeof c['WorkingDir'] === 'string' && c['WorkingDir'] !== '') out.WorkingDir = c['WorkingDir'];
  if (typeof c['User'] === 'string' && c['User'] !== '') out.User = c['User'];
  if (isObject(c['Volumes'])) out.Volumes = c['Volumes'] as Record<string, object>;
  if (isObject(c['Labels'])) out.Labels = c['Labels'] as Record<string, string>;
  if (isObject(c['ExposedPorts'])) out.ExposedPorts = c['ExposedPorts'] as Record<string, object>;
  // HEALTHCHECK: read by the supervisor's health monitor.
  if (isObject(c['Healthcheck'])) out.Healthcheck = c['Healthcheck'] as NonNullable<ImageConfig['Healthcheck']>;
  return out;
}

/** What an image config blob says: diffIDs, Config, created. */
export function parseImageConfig(bytes: Buffer, what: string): { diffIds: string[]; config: ImageConfig; created: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new InvalidArchiveError(`${what} is not valid JSON`, { cause: error });
  }
  if (!isObject(doc) || !isObject(doc['rootfs'])) throw new InvalidArchiveError(`${what} has no rootfs section`);
  const diffIds = strings(doc['rootfs']['diff_ids']);
  if (!diffIds || !diffIds.every((d) => /^sha256:[a-f0-9]{64}$/.test(d))) {
    throw new InvalidArchiveError(`${what} has no valid rootfs.diff_ids`);
  }
  const created = typeof doc['created'] === 'string' ? doc['created'] : new Date().toISOString();
  return { diffIds, config: pickConfig(doc['config']), created };
}

function tags(refs: readonly string[]): string[] {
  return refs.map((r) => tryNormalizeTag(r)).filter((t): t is string => t !== undefined);
}

/** `docker save` (and `skopeo copy ... docker-archive:`): manifest.json + config + layer tars. */
export function planDockerSave(archive: ArchiveContents): ImagePlan[] {
  const manifest = archive.json('manifest.json', 'the docker manifest');
  if (!Array.isArray(manifest) || manifest.length === 0) throw new InvalidArchiveError('manifest.json lists no images');
  return manifest.map((item: unknown, i) => {
    if (!isObject(item) || typeof item['Config'] !== 'string') throw new InvalidArchiveError(`manifest.json entry ${i} has no Config`);
    const configName = item['Config'];
    const configFile = archive.get(configName, 'image config');
    const bytes = archive.bytes(configFile, 'image config');
    const id = sha256Hex(bytes);
    // Config files are named by their digest (`<hex>.json` or `blobs/sha256/<hex>`).
    const named = /([a-f0-9]{64})(?:\.json)?$/.exec(configName)?.[1];
    if (named && named !== id) throw new DigestMismatchError(`image config ${configName}`, `sha256:${named}`, `sha256:${id}`);
    const parsed = parseImageConfig(bytes, `image config ${configName}`);
    const layers = strings(item['Layers']);
    if (!layers || layers.length !== parsed.diffIds.length) {
      throw new InvalidArchiveError(`manifest.json entry ${i} lists ${layers?.length ?? 0} layers, its config ${parsed.diffIds.length} diffIDs`);
    }
    const layerFiles = layers.map((name) => {
      const f = archive.get(name, 'layer');
      const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
      if (m && digestOf(f) !== `sha256:${m[1]}`) throw new DigestMismatchError(`layer ${name}`, `sha256:${m[1]}`, digestOf(f));
      return f;
    });
    return { id, ...parsed, layerFiles, tags: tags(strings(item['RepoTags']) ?? []), configBlob: bytes };
  });
}

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

interface Descriptor { mediaType?: string; digest: string; size?: number; annotations?: Record<string, string>; platform?: { os?: string; architecture?: string } }

function descriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v) || typeof v['digest'] !== 'string') throw new InvalidArchiveError(`${what} is not a valid descriptor`);
  return v as unknown as Descriptor;
}

/** An OCI image layout packed as a tar (umoci, `skopeo copy ... oci-archive:`). */
export function planOciLayout(archive: ArchiveContents): ImagePlan[] {
  const layout = archive.json('oci-layout', 'the OCI layout marker');
  if (!isObject(layout) || layout['imageLayoutVersion'] !== '1.0.0') {
    throw new InvalidArchiveError('oci-layout does not declare imageLayoutVersion 1.0.0');
  }
  const index = archive.json('index.json', 'the OCI index');
  if (!isObject(index) || !Array.isArray(index['manifests'])) throw new InvalidArchiveError('index.json has no manifests');
  const byId = new Map<string, ImagePlan>();
  for (const [i, raw] of index['manifests'].entries()) {
    let desc = descriptor(raw, `index.json manifest ${i}`);
    const refs = [desc.annotations?.['io.containerd.image.name'], desc.annotations?.['org.opencontainers.image.ref.name']]
      // A bare ref.name (umoci's "latest") is only a tag, with no repository to put it on.
      .filter((r): r is string => typeof r === 'string' && (r.includes(':') || r.includes('/')));
    let doc = readBlobJson(archive, desc, 'manifest');
    if (INDEX_TYPES.has(desc.mediaType ?? '') || (isObject(doc) && Array.isArray(doc['manifests']))) {
      const list = (isObject(doc) && Array.isArray(doc['manifests']) ? doc['manifests'] : []).map((m, j) => descriptor(m, `index entry ${j}`));
      const arch = GOARCH[process.arch] ?? process.arch;
      const chosen = list.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ?? list[0];
      if (!chosen) throw new InvalidArchiveError(`image index ${desc.digest} lists no manifests`);
      desc = chosen;
      doc = readBlobJson(archive, desc, 'manifest');
    }
    if (!isObject(doc) || !Array.isArray(doc['layers'])) throw new InvalidArchiveError(`manifest ${desc.digest} has no layers`);
    const configDesc = descriptor(doc['config'], `manifest ${desc.digest} config`);
    const configFile = archive.blob(configDesc.digest, 'image config', configDesc.size);
    const bytes = archive.bytes(configFile, 'image config');
    const parsed = parseImageConfig(bytes, `image config ${configDesc.digest}`);
    const layerDescs = doc['layers'].map((l, j) => descriptor(l, `manifest ${desc.digest} layer ${j}`));
    if (layerDescs.length !== parsed.diffIds.length) {
      throw new InvalidArchiveError(`manifest ${desc.digest} lists ${layerDescs.length} layers, its config ${parsed.diffIds.length} diffIDs`);
    }
    const layerFiles = layerDescs.map((l) => {
      if ((l.mediaType ?? '').includes('zstd')) throw new UnsupportedCompressionError(`layer ${l.digest}`, 'zstd');
      return archive.blob(l.digest, 'layer', l.size);
    });
    const id = digestOf(configFile).slice('sha256:'.length);
    const existing = byId.get(id);
    if (existing) existing.tags.push(...tags(refs));
    else byId.set(id, { id, ...parsed, layerFiles, tags: tags(refs), configBlob: bytes });
  }
  if (byId.size === 0) throw new InvalidArchiveError('index.json lists no images');
  return [...byId.values()];
}

function readBlobJson(archive: ArchiveContents, desc: Descriptor, what: string): unknown {
  const f = archive.blob(desc.digest, what, desc.size);
  try {
    return JSON.parse(archive.bytes(f, what).toString('utf8')) as unknown;
  } catch (error) {
    throw new InvalidArchiveError(`${what} ${desc.digest} is not valid JSON`, { cause: error });
  }
}

/** The config docker import writes for a plain rootfs tar: one layer, an empty Config. */
export function rootfsConfigBlob(diffId: string, created: string): Buffer {
  const arch = GOARCH[process.arch] ?? process.arch;
  return Buffer.from(JSON.stringify({
    architecture: arch,
    os: 'linux',
    created,
    config: {},
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: 'berth import', comment: 'Imported from tarball' }],
  }));
}

/** The config blob of a committed image (its sha256 is the image id): Docker's fields, with author, comment and one history entry more. */
export function commitConfigBlob(opts: { config: object; author?: string; comment?: string; createdBy?: string }, diffIds: readonly string[], created: string): Buffer {
  const arch = GOARCH[process.arch] ?? process.arch;
  return Buffer.from(JSON.stringify({
    architecture: arch,
    os: 'linux',
    created,
    ...(opts.author ? { author: opts.author } : {}),
    config: opts.config,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created, ...(opts.author ? { author: opts.author } : {}), created_by: opts.createdBy ?? 'berth commit', ...(opts.comment ? { comment: opts.comment } : {}) }],
  }));
}
