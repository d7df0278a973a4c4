import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, writeSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { markTopDirectory, MountTable, type Syscalls } from '@berth/syscall';
import { ingest, type ImagePlan, type Ingested, type StagedUnpack } from './archive.js';
import { overlayChanges, type Change } from './changes.js';
import { writeUpperLayer } from './commit.js';
import {
  AmbiguousImageError, ContainerBusyError, ContainerExistsError, DigestMismatchError, ImageConflictError,
  ImageInUseError, InvalidArchiveError, LayerStoreError, LowerdirTooLongError, NoSuchContainerError, NoSuchImageError,
} from './errors.js';
import { commitConfigBlob, planDockerSave, planOciLayout, rootfsConfigBlob } from './formats.js';
import { fileChunks, unpackLayer, type UnpackedLayer } from './layer-apply.js';
import { deserializeIngest, offload } from './worker/offload.js';
import { Trash } from './trash.js';
import type { SerializedIngest } from './worker/protocol.js';
import { Metadata, openDatabase, type ImageRow } from './metadata.js';
import { chainIds, digestHex, normalizeTag, randomShortName, randomSuffix, sha256Hex, tryNormalizeTag } from './refs.js';
import type {
  CommitOptions, ContainerLayout, DiskUsage, Driver, ImageConfig, ImageRecord, ImportOptions, ImportResult, Mount, OpenOptions,
  ReconcileReport, RemoveImageResult,
} from './types.js';
import { materialize } from './vfs.js';
import { RegistryClient, type Credentials } from './registry/client.js';
import { distributionInfo, pullImage, type DistributionInfo, type PullOptions } from './registry/pull.js';
import { registryDomain } from './registry/reference.js';
import { pushImage, type PushOptions } from './registry/push.js';
import { saveImages } from './save.js';
import { rebuildLayerTar, TAR_SPLIT_FILE } from './tar-split.js';
import type { TransportOptions } from './registry/transport.js';

/** The kernel copies mount options into one page; the string and its NUL must fit. */
export const MOUNT_OPTIONS_LIMIT = 4095;
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const TEMP = /^\.(tmp|del)-/;

interface StagedLayer { id: string; diffId: string; parent: string | null; size: number; tmp: string }

/**
 * The layer store: unpacked layers shared between images, images and tags,
 * and each container's writable layer. It never mounts anything; it returns
 * mounts as data (`mountFor`) for the launch to apply in the container's own
 * mount namespace. One process owns a store root at a time.
 */
export class LayerStore {
  /** What `open` cleaned up and found. */
  readonly startupReport: ReconcileReport;
  private readonly meta: Metadata;
  /** Layer and container directories being deleted (see `discard`). */
  private readonly trash = new Trash();
  /** This process's mounts, read again only when they changed: every container removal looks (see `removeContainer`). */
  private readonly mounts: MountTable;

  private constructor(
    readonly root: string, private readonly sys: Syscalls, readonly driver: Driver,
    private readonly transport: TransportOptions = {}, private readonly inWorker = false,
  ) {
    for (const d of ['layers', 'containers', 'l', 'tmp', 'blobs/sha256']) mkdirSync(join(root, d), { recursive: true, mode: 0o700 });
    // Each layer's inodes in a block group ext4 picks for it, not beside the
    // store's: on ext4 without a journal, every new inode is first checked
    // against each inode freed in its group in the last 5 s (300 s while the
    // inode table is unwritten), so an import just after a removal paid
    // ~0.3 ms per file (see the layers README, "Where a layer's inodes go").
    markTopDirectory(sys, join(root, 'layers'));
    this.meta = new Metadata(openDatabase(join(root, 'metadata.db')));
    this.mounts = new MountTable(sys);
    // One process owns a root: at open, a directory without its record can only be what a
    // crash left between a rename and its commit (or a committed removal and its rename).
    this.startupReport = this.reconcile({ removeOrphans: true });
  }

  static open(root: string, opts: OpenOptions): LayerStore {
    return new LayerStore(
      root, opts.syscalls, opts.driver ?? 'overlay',
      opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}, opts.unpackInWorker === true,
    );
  }

  close(): void {
    this.meta.db.close();
    this.mounts.close();
  }

  private layerDir(id: string): string {
    return join(this.root, 'layers', id);
  }
  private containerDir(id: string): string {
    return join(this.root, 'containers', id);
  }

  // ---- images ------------------------------------------------------------

  private record(row: ImageRow): ImageRecord {
    return {
      id: `sha256:${row.id}`,
      tags: this.meta.tagsOf(row.id),
      config: JSON.parse(row.config) as ImageConfig,
      created: row.created,
      size: this.meta.imageSize(row.id),
      layers: this.meta.imageLayers(row.id),
      diffIds: this.meta.imageLayers(row.id).map((l) => this.meta.layer(l)?.diff_id ?? `sha256:${l}`),
      repoDigests: this.meta.repoDigestsOf(row.id),
    };
  }

  /** Resolves a tag, `name`, full or `sha256:` id, or unique id prefix to an image id (hex). */
  private resolve(ref: string): string | undefined {
    const tag = tryNormalizeTag(ref);
    const tagged = tag === undefined ? undefined : this.meta.imageOfTag(tag);
    if (tagged) return tagged;
    if (ref.includes('@')) return this.resolveRepoDigest(ref);
    const hex = ref.startsWith('sha256:') ? ref.slice('sha256:'.length) : ref;
    if (!/^[a-f0-9]{1,64}$/.test(hex)) return undefined;
    const matches = this.meta.imagesByPrefix(hex);
    if (matches.length > 1) throw new AmbiguousImageError(ref);
    return matches[0]?.id;
  }

  /** `name@sha256:…`, with the name in any spelling Docker accepts (`docker.io/library/x`, `x`). */
  private resolveRepoDigest(ref: string): string | undefined {
    const at = ref.indexOf('@');
    const name = tryNormalizeTag(ref.slice(0, at));
    if (name === undefined) return undefined;
    return this.meta.imageOfRepoDigest(`${name.slice(0, name.lastIndexOf(':'))}${ref.slice(at)}`);
  }

  listImages(): ImageRecord[] {
    return this.meta.images().map((r) => this.record(r));
  }

  findImage(ref: string): ImageRecord | undefined {
    const id = this.resolve(ref);
    const row = id === undefined ? undefined : this.meta.image(id);
    return row ? this.record(row) : undefined;
  }

  inspectImage(ref: string): ImageRecord {
    const image = this.findImage(ref);
    if (!image) throw new NoSuchImageError(ref);
    return image;
  }

  tagImage(ref: string, tag: string): void {
    const id = this.resolve(ref);
    if (id === undefined) throw new NoSuchImageError(ref);
    this.meta.setTag(normalizeTag(tag), id);
  }

  containersUsing(imageRef: string): string[] {
    const id = this.resolve(imageRef);
    return id === undefined ? [] : this.meta.containersUsing(id);
  }

  /**
   * Docker's `rmi`: a tag of an image with other tags is only untagged;
   * otherwise the image goes, with every layer no other image uses. Refused
   * while a container uses the image, even with `force`.
   */
  removeImage(ref: string, opts: { force?: boolean } = {}): RemoveImageResult {
    const id = this.resolve(ref);
    if (id === undefined) throw new NoSuchImageError(ref);
    const tags = this.meta.tagsOf(id);
    const tag = tryNormalizeTag(ref);
    const byTag = tag !== undefined && this.meta.imageOfTag(tag) === id;
    if (byTag && tags.length > 1) {
      this.meta.deleteTag(tag);
      return { untagged: [tag], deleted: [] };
    }
    if (!byTag && tags.length > 1 && opts.force !== true) {
      throw new ImageConflictError(ref, `it is tagged ${tags.join(', ')}; remove it by tag, or use force`);
    }
    const users = this.meta.containersUsing(id);
    if (users.length > 0) throw new ImageInUseError(ref, users);
    const released = this.meta.db.transaction(() => {
      for (const t of tags) this.meta.deleteTag(t);
      this.meta.deleteImage(id);
      return this.releaseUnreferencedLayers();
    })();
    // Directories go after the commit: a crash in between leaves an orphan
    // directory (reported by reconcile), never a record without its files.
    for (const layer of released) this.discard(this.layerDir(layer.id), join(this.root, 'l', layer.short));
    return { untagged: tags, deleted: [`sha256:${id}`, ...released.map((l) => `sha256:${l.id}`)] };
  }

  private releaseUnreferencedLayers(): { id: string; short: string }[] {
    const out: { id: string; short: string }[] = [];
    let pending = this.meta.unreferencedLayers();
    // Children before parents (parent is a foreign key).
    while (pending.length > 0) {
      const parents = new Set(pending.map((l) => l.parent));
      const leaves = pending.filter((l) => !parents.has(l.id));
      if (leaves.length === 0) break;
      for (const l of leaves) {
        this.meta.deleteLayer(l.id);
        out.push({ id: l.id, short: l.short });
      }
      pending = pending.filter((l) => parents.has(l.id));
    }
    return out;
  }

  /**
   * Takes a directory out of sight at once (one rename), then deletes it;
   * with `background`, off the caller's path (removing a container's layers
   * was a third of a launch's main-thread cost). A crash leaves a `.del-*`
   * directory, which `reconcile` removes at the next start; `idle()` waits
   * for pending deletions.
   */
  private discard(dir: string, link?: string, background = false): void {
    if (link) rmSync(link, { force: true });
    this.trash.discard(dir, { now: !background });
  }

  /** Resolves when every directory removed so far is gone from disk. */
  idle(): Promise<void> {
    return this.trash.idle();
  }

  // ---- import ------------------------------------------------------------

  /**
   * Imports a `docker save` archive, an OCI layout tar or a plain rootfs tar
   * from a path or a stream, reading it once (see `ingest`). Layers are
   * unpacked under temporary names and everything is recorded and renamed
   * into place in one transaction: a bad archive leaves the store as it was.
   */
  async importImage(source: string | NodeJS.ReadableStream | AsyncIterable<Buffer>, opts: ImportOptions = {}): Promise<ImportResult> {
    const tag = opts.tag === undefined ? undefined : normalizeTag(opts.tag);
    const work = join(this.root, 'tmp', `import-${randomSuffix()}`);
    mkdirSync(work, { mode: 0o700 });
    const made: string[] = [];
    const staged = new Map<string, StagedLayer>();
    try {
      let bytesTotal: number | undefined;
      const path = typeof source === 'string' ? source : undefined;
      if (path !== undefined) {
        if (!statSync(path).isFile()) throw new InvalidArchiveError(`${path} is not a file`);
        bytesTotal = statSync(path).size;
      }
      const onProgress = opts.onProgress;
      const onBytes = onProgress ? (bytesDone: number): void => onProgress(bytesTotal === undefined ? { bytesDone } : { bytesDone, bytesTotal }) : undefined;
      const mode = opts.format ?? 'auto';
      let ingested: Ingested;
      if (this.inWorker) {
        // A file is read by the worker itself: no chunk crosses to it, and its read buffers stay there to be read into again.
        const task = { kind: 'ingest' as const, mode, layersDir: join(this.root, 'layers'), workDir: work, ...(path === undefined ? {} : { file: path, progress: onBytes !== undefined }) };
        ingested = deserializeIngest(await offload(task, path === undefined ? source as AsyncIterable<Buffer> : undefined, made, onBytes) as SerializedIngest);
      } else {
        // A file's buffers are read into again once consumed (see `fileChunks`).
        const file = path === undefined ? undefined : fileChunks(path);
        ingested = await ingest(file ?? source as AsyncIterable<Buffer>, {
          mode, syscalls: this.sys, workDir: work, made, ...(file ? { release: (chunk: Buffer) => file.recycle(chunk) } : {}),
          newLayerTmp: () => this.newLayerTmp(),
          ...(onBytes ? { onBytes } : {}),
        });
      }
      let plans: ImagePlan[];
      if (ingested.format === 'rootfs') {
        plans = [this.planRootfs(ingested.staged, staged)];
      } else {
        const c = ingested.contents;
        if (c.has('manifest.json')) plans = planDockerSave(c);
        else if (c.has('oci-layout')) plans = planOciLayout(c);
        else throw new InvalidArchiveError('the archive has neither manifest.json nor oci-layout: it is not a docker save or OCI archive (a root filesystem tar is imported with docker import)');
        for (const plan of plans) await this.stageLayers(plan, staged, made);
      }
      if (tag !== undefined) {
        if (plans.length !== 1) throw new InvalidArchiveError(`the archive holds ${plans.length} images, so a tag argument is ambiguous`);
        plans[0]?.tags.push(tag);
      }
      this.commit(plans, staged);
      return { images: plans.map((p) => this.inspectImage(`sha256:${p.id}`)) };
    } finally {
      // Committed layers were renamed away; whatever is still here was not used.
      for (const tmp of made) rmSync(tmp, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** `docker pull`: see `pullImage`. The store's insecure registries apply. */
  pull(ref: string, opts: Omit<PullOptions, 'transport'> = {}): Promise<ImageRecord> {
    return pullImage(this, ref, { ...opts, transport: this.transport });
  }

  /** `docker save`: see `saveImages`. Rejects before any byte when an image or a layer cannot be saved. */
  save(refs: readonly string[]): Promise<NodeJS.ReadableStream> {
    return saveImages(this, refs);
  }

  /** `docker push`: see `pushImage`. */
  push(ref: string, opts: Omit<PushOptions, 'transport'> = {}): Promise<{ digest: string; size: number }> {
    return pushImage(this, ref, { ...opts, transport: this.transport });
  }

  /** `docker login`: checks the credentials against the registry (see `RegistryClient.login`). */
  login(serverAddress: string, creds: Credentials): Promise<void> {
    return new RegistryClient(registryDomain(serverAddress), creds, this.transport).login();
  }

  /**
   * `docker history`: the config's history, newest first; entries that made
   * a layer get its size in order, the top one the image id and tags (the
   * others `<missing>`, as Docker shows images it did not build).
   */
  history(ref: string): { Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }[] {
    const image = this.inspectImage(ref);
    const blob = this.configBlob(ref);
    let entries: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[] = [];
    if (blob) {
      try {
        const doc = JSON.parse(blob.toString('utf8')) as { history?: unknown };
        if (Array.isArray(doc.history)) entries = doc.history as typeof entries;
      } catch {
        // a config that was valid JSON at import; nothing to show otherwise
      }
    }
    if (entries.length === 0) entries = image.layers.map(() => ({ created: image.created }));
    const sizes = image.layers.map((l) => this.meta.layer(l)?.size ?? 0);
    let layer = 0;
    const rows = entries.map((h) => ({
      Id: '<missing>',
      Created: Math.floor((Date.parse(h.created ?? image.created) || 0) / 1000),
      CreatedBy: h.created_by ?? '',
      Tags: null as string[] | null,
      Size: h.empty_layer === true ? 0 : (sizes[layer++] ?? 0),
      Comment: h.comment ?? '',
    })).reverse();
    if (rows[0]) {
      rows[0].Id = image.id;
      rows[0].Tags = image.tags;
    }
    return rows;
  }

  /**
   * `docker image prune`: images no container uses that `select` picks
   * (dangling only unless the caller says all), each removed as `rmi` would,
   * with the bytes of the layers that went.
   */
  pruneImages(select: (image: ImageRecord) => boolean): { deleted: { Untagged?: string; Deleted?: string }[]; reclaimed: number } {
    const deleted: { Untagged?: string; Deleted?: string }[] = [];
    let reclaimed = 0;
    for (const image of this.listImages()) {
      const hex = image.id.slice('sha256:'.length);
      if (this.meta.containersUsing(hex).length > 0 || !select(image)) continue;
      const sizes = new Map(this.meta.layers().map((l) => [`sha256:${l.id}`, l.size]));
      const result = this.removeImage(image.id, { force: true });
      for (const t of result.untagged) deleted.push({ Untagged: t });
      for (const d of result.deleted) {
        deleted.push({ Deleted: d });
        reclaimed += sizes.get(d) ?? 0;
      }
    }
    return { deleted, reclaimed };
  }

  /** `GET /distribution/{name}/json`: see `distributionInfo`. */
  distribution(ref: string, credentials?: Credentials): Promise<DistributionInfo> {
    return distributionInfo(ref, { transport: this.transport, ...(credentials ? { credentials } : {}) });
  }

  /** A layer (hex chain id) is stored. For the registry client. */
  hasLayer(chainId: string): boolean {
    return this.meta.layer(chainId) !== undefined;
  }

  /**
   * Records an image whose layers were unpacked by the caller (a pull) under
   * `newLayerTmp()` names: rows, renames and tags in one transaction, as an
   * import does. `layers` gives a staged directory for each chain id not stored yet.
   */
  commitImage(plan: ImagePlan, layers: readonly { chainId: string; diffId: string; tmp: string; size: number }[]): ImageRecord {
    const staged = new Map<string, StagedLayer>();
    const ids = chainIds(plan.diffIds);
    for (const l of layers) {
      const i = ids.indexOf(l.chainId);
      if (i < 0) throw new LayerStoreError('INVALID_PLAN', `failed to record image ${plan.id}: layer ${l.chainId} is not one of its layers`);
      staged.set(l.chainId, { id: l.chainId, diffId: l.diffId, parent: i === 0 ? null : (ids[i - 1] ?? null), size: l.size, tmp: l.tmp });
    }
    for (const id of ids) {
      if (!staged.has(id) && !this.meta.layer(id)) throw new LayerStoreError('MISSING_LAYER', `failed to record image ${plan.id}: layer ${id} was neither stored nor staged`);
    }
    this.commit([plan], staged);
    return this.inspectImage(`sha256:${plan.id}`);
  }

  /** The image config blob as it was pulled or loaded (undefined for images stored before berth kept them). */
  configBlob(ref: string): Buffer | undefined {
    const id = this.resolve(ref);
    if (id === undefined) throw new NoSuchImageError(ref);
    return this.meta.image(id)?.config_blob ?? undefined;
  }

  /**
   * Where a compressed blob kept from a pull lives (`blobs/sha256/<hex>`),
   * or under `.tmp-*` while it is written. Content-addressed: a blob renamed
   * into place before its records commit is at worst an unused file.
   */
  blobPath(digest: string, temporary = false): string {
    const hex = digestHex(digest, 'blob digest');
    return join(this.root, 'blobs', 'sha256', temporary ? `.tmp-${randomSuffix()}` : hex);
  }

  /** A kept blob's path, if this store has it. */
  keptBlob(digest: string): string | undefined {
    const path = this.blobPath(digest);
    return existsSync(path) ? path : undefined;
  }

  /**
   * The exact tar a layer was loaded (or committed) as, rebuilt from its
   * tar-split record and its files into a temporary file under `tmp/`,
   * which the caller removes. Checked against the diffID before it is
   * returned, so nothing that is not the layer's own tar leaves the store.
   * `undefined` when the layer has no record (stored before records were
   * kept, or a tar that could not be split, such as a whiteout with content).
   */
  async rebuiltLayerTar(layerId: string, diffId: string): Promise<string | undefined> {
    const dir = this.layerDir(layerId);
    if (!existsSync(join(dir, TAR_SPLIT_FILE))) return undefined;
    const out = join(this.root, 'tmp', `layer-${randomSuffix()}.tar`);
    try {
      const { digest } = await rebuildLayerTar(dir, out);
      if (digest !== diffId) {
        throw new LayerStoreError('SAVE_UNSUPPORTED', `failed to rebuild the tar of layer ${diffId}: its files changed since it was loaded (the rebuilt tar is ${digest})`);
      }
      return out;
    } catch (error) {
      rmSync(out, { force: true });
      throw error;
    }
  }

  /** Which compressed blobs a layer was pulled as or pushed as, by repository. */
  layerBlobs(diffId: string): { digest: string; mediaType: string; size: number; repository: string }[] {
    return this.meta.layerBlobs(diffId).map((b) => ({ digest: b.digest, mediaType: b.media_type, size: b.size, repository: b.repository }));
  }

  recordLayerBlob(b: { diffId: string; digest: string; mediaType: string; size: number; repository: string }): void {
    this.meta.setLayerBlob({ diff_id: b.diffId, digest: b.digest, media_type: b.mediaType, size: b.size, repository: b.repository });
  }

  recordRepoDigest(ref: string, repoDigest: string): void {
    const id = this.resolve(ref);
    if (id === undefined) throw new NoSuchImageError(ref);
    this.meta.setRepoDigest(repoDigest, id);
  }

  /** The syscalls layers are unpacked with. For the registry client. */
  get syscalls(): Syscalls {
    return this.sys;
  }

  /**
   * Unpacks one layer from a stream into `dest` (a `newLayerTmp()` path +
   * `/diff`), on the worker thread when the store was opened so; the raw
   * bytes are also written to `keepBlobAt` when given. For the registry client.
   */
  async unpackStream(source: AsyncIterable<Buffer>, dest: string, opts: { what: string; expectDigest?: string; keepBlobAt?: string; onBytes?: (n: number) => void }): Promise<UnpackedLayer> {
    if (this.inWorker) {
      const task = { kind: 'layer' as const, dest, what: opts.what, ...(opts.expectDigest ? { expectDigest: opts.expectDigest } : {}), ...(opts.keepBlobAt ? { keepBlobAt: opts.keepBlobAt } : {}) };
      return await offload(task, source, [], opts.onBytes) as UnpackedLayer;
    }
    const fd = opts.keepBlobAt === undefined ? undefined : openSync(opts.keepBlobAt, 'wx', 0o600);
    try {
      return await unpackLayer(source, dest, {
        syscalls: this.sys, what: opts.what,
        ...(opts.expectDigest ? { expectDigest: opts.expectDigest } : {}),
        ...(opts.onBytes ? { onBytes: opts.onBytes } : {}),
        ...(fd === undefined ? {} : {
          onRaw: (chunk: Buffer) => {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          },
        }),
      });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  newLayerTmp(): string {
    return join(this.root, 'layers', `.tmp-${randomSuffix()}`);
  }

  private planRootfs(unpacked: StagedUnpack, staged: Map<string, StagedLayer>): ImagePlan {
    const { diffId, size } = unpacked.layer;
    const [id] = chainIds([diffId]);
    if (id === undefined) throw new InvalidArchiveError('no layer');
    if (!this.meta.layer(id)) staged.set(id, { id, diffId, parent: null, size, tmp: unpacked.tmp });
    const created = new Date().toISOString();
    const blob = rootfsConfigBlob(diffId, created);
    return { id: sha256Hex(blob), config: {}, created, diffIds: [diffId], layerFiles: [], tags: [], configBlob: blob };
  }

  /**
   * Matches the layers an archive's manifest names with the tars unpacked
   * while it streamed, each checked against the config's diffID. A tar used
   * by two chains (the same layer on different parents) is copied; a layer
   * that did not look like a tar on the way is unpacked now from what was kept.
   */
  private async stageLayers(plan: ImagePlan, staged: Map<string, StagedLayer>, made: string[]): Promise<void> {
    const ids = chainIds(plan.diffIds);
    for (const [i, id] of ids.entries()) {
      const diffId = plan.diffIds[i] ?? '';
      const file = plan.layerFiles[i];
      if (!file) throw new InvalidArchiveError(`layer ${i} is missing`);
      const what = `layer ${i} (${diffId})`;
      let unpacked: StagedUnpack;
      if (file.kind === 'layer') {
        unpacked = file.staged;
      } else {
        const tmp = this.newLayerTmp();
        made.push(tmp);
        const layer = await unpackLayer(file.bytes ? bufferChunks(file.bytes) : fileChunks(file.path ?? ''), join(tmp, 'diff'), { syscalls: this.sys, what });
        unpacked = { tmp, layer };
        plan.layerFiles[i] = { kind: 'layer', name: file.name, staged: unpacked, taken: false };
      }
      if (unpacked.layer.diffId !== diffId) throw new DigestMismatchError(`${what} against the config's diffID`, diffId, unpacked.layer.diffId);
      if (staged.has(id) || this.meta.layer(id)) continue;
      const entry = plan.layerFiles[i];
      let tmp = unpacked.tmp;
      if (entry?.kind !== 'layer' || entry.taken) {
        tmp = this.newLayerTmp();
        made.push(tmp);
        mkdirSync(tmp, { mode: 0o700 });
        copyTree(join(unpacked.tmp, 'diff'), join(tmp, 'diff'));
        if (existsSync(join(unpacked.tmp, TAR_SPLIT_FILE))) copyFileSync(join(unpacked.tmp, TAR_SPLIT_FILE), join(tmp, TAR_SPLIT_FILE));
      } else {
        entry.taken = true;
      }
      staged.set(id, { id, diffId, parent: i === 0 ? null : (ids[i - 1] ?? null), size: unpacked.layer.size, tmp });
    }
  }

  /** One transaction: layer rows + renames + links, image rows, tags. Undone on failure. */
  private commit(plans: readonly ImagePlan[], staged: Map<string, StagedLayer>): void {
    const undo: (() => void)[] = [];
    const now = new Date().toISOString();
    try {
      this.meta.db.transaction(() => {
        for (const layer of staged.values()) {
          if (this.meta.layer(layer.id)) continue; // stored meanwhile; ours is dropped
          let short = randomShortName();
          while (this.meta.shortTaken(short)) short = randomShortName();
          this.meta.insertLayer({ id: layer.id, diff_id: layer.diffId, parent: layer.parent, short, size: layer.size, created: now });
          const dir = this.layerDir(layer.id);
          renameSync(layer.tmp, dir);
          undo.push(() => renameSync(dir, layer.tmp));
          const link = join(this.root, 'l', short);
          symlinkSync(`../layers/${layer.id}/diff`, link);
          undo.push(() => unlinkSync(link));
        }
        for (const plan of plans) {
          if (!this.meta.image(plan.id)) this.meta.insertImage(plan.id, plan.config, plan.created, chainIds(plan.diffIds));
          if (plan.configBlob) this.meta.setConfigBlob(plan.id, plan.configBlob);
          for (const t of plan.tags) this.meta.setTag(t, plan.id);
          for (const r of plan.repoDigests ?? []) this.meta.setRepoDigest(r, plan.id);
          for (const b of plan.blobs ?? []) this.meta.setLayerBlob(b);
        }
      })();
    } catch (error) {
      for (const step of undo.reverse()) {
        try { step(); } catch { /* best effort; reconcile reports leftovers */ }
      }
      throw error;
    }
  }

  // ---- containers ----------------------------------------------------------

  /** Creates `containers/<id>/{diff,work,mnt}` (and a full `rootfs` copy for vfs) and records the image use. */
  prepareContainer(containerId: string, imageRef: string): ContainerLayout {
    if (!CONTAINER_ID.test(containerId)) {
      throw new LayerStoreError('INVALID_CONTAINER_ID', `failed to prepare container ${JSON.stringify(containerId)}: ids are letters, digits, _ . - (up to 128)`);
    }
    const image = this.resolve(imageRef);
    if (image === undefined || !this.meta.image(image)) throw new NoSuchImageError(imageRef);
    if (this.meta.container(containerId) || existsSync(this.containerDir(containerId))) throw new ContainerExistsError(containerId);
    const dir = this.containerDir(containerId);
    const tmp = join(this.root, 'containers', `.tmp-${randomSuffix()}`);
    let renamed = false;
    try {
      mkdirSync(tmp, { mode: 0o710 });
      for (const d of ['diff', 'work', 'mnt']) mkdirSync(join(tmp, d), { mode: d === 'diff' ? 0o755 : 0o700 });
      if (this.driver === 'vfs') {
        materialize(this.sys, this.meta.imageLayers(image).map((l) => join(this.layerDir(l), 'diff')), join(tmp, 'rootfs'));
      }
      this.meta.db.transaction(() => {
        this.meta.insertContainer(containerId, image, new Date().toISOString());
        renameSync(tmp, dir);
        renamed = true;
      })();
    } catch (error) {
      // The rename happened but the commit failed: the directory goes back with the record.
      if (renamed) rmSync(dir, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
      throw error;
    }
    return { dir, diff: join(dir, 'diff'), work: join(dir, 'work'), mnt: join(dir, 'mnt'), rootfs: this.mountFor(containerId) };
  }

  /**
   * The mount that gives the container its root filesystem, on `mnt`.
   * overlay: lowerdirs top first through the short `l/` links, so 128
   * layers fit in the kernel's one-page option limit under a root like
   * /var/lib/berth. vfs: a recursive bind of the full copy.
   */
  mountFor(containerId: string): Mount {
    const row = this.meta.container(containerId);
    if (!row) throw new NoSuchContainerError(containerId);
    const dir = this.containerDir(containerId);
    const target = join(dir, 'mnt');
    if (this.driver === 'vfs') return { type: 'bind', source: join(dir, 'rootfs'), target, options: ['rbind'] };
    const lowers = this.meta.imageLayers(row.image_id).map((id) => {
      const layer = this.meta.layer(id);
      if (!layer) throw new LayerStoreError('MISSING_LAYER', `failed to build the mount for ${containerId}: layer ${id} is not recorded; re-import the image`);
      return join(this.root, 'l', layer.short);
    }).reverse();
    const options = [`lowerdir=${lowers.join(':')}`, `upperdir=${join(dir, 'diff')}`, `workdir=${join(dir, 'work')}`];
    const length = options.join(',').length;
    if (length > MOUNT_OPTIONS_LIMIT) throw new LowerdirTooLongError(containerId, length);
    return { type: 'overlay', source: 'overlay', target, options };
  }

  /**
   * `docker commit`: the container's writable layer becomes a new layer on
   * top of its image's, and a new image with `config`, tagged `tag` when
   * given. The layer is written as a tar from the upper directory (whiteouts
   * as `.wh.` entries), unpacked under a temporary name like any imported
   * layer, and recorded, renamed and tagged in one transaction.
   */
  async commitContainer(containerId: string, opts: CommitOptions): Promise<ImageRecord> {
    const row = this.meta.container(containerId);
    // Created and never started: no writable layer yet, so the new layer is empty (as Docker's would be).
    const imageId = row?.image_id ?? (opts.image !== undefined ? this.resolve(opts.image) : undefined);
    if (imageId === undefined) throw new NoSuchContainerError(containerId);
    if (row && this.driver !== 'overlay') {
      throw new LayerStoreError('DRIVER_UNSUPPORTED', `failed to commit container ${containerId}: the vfs storage driver keeps no writable layer apart from the image; use the overlay driver`);
    }
    const tag = opts.tag === undefined ? undefined : normalizeTag(opts.tag);
    const baseDiffIds = this.meta.imageLayers(imageId).map((id) => this.meta.layer(id)?.diff_id ?? '');
    const work = join(this.root, 'tmp', `commit-${randomSuffix()}`);
    mkdirSync(work, { mode: 0o700 });
    const staged = new Map<string, StagedLayer>();
    try {
      const file = join(work, 'layer.tar');
      await writeUpperLayer(this.sys, row ? join(this.containerDir(containerId), 'diff') : undefined, file);
      const tmp = join(this.root, 'layers', `.tmp-${randomSuffix()}`);
      let unpacked: { diffId: string; size: number };
      try {
        unpacked = await unpackLayer(fileChunks(file), join(tmp, 'diff'), { syscalls: this.sys, what: `the writable layer of ${containerId}` });
      } catch (error) {
        rmSync(tmp, { recursive: true, force: true });
        throw error;
      }
      const diffIds = [...baseDiffIds, unpacked.diffId];
      const ids = chainIds(diffIds);
      const id = ids[ids.length - 1]!;
      if (this.meta.layer(id)) rmSync(tmp, { recursive: true, force: true });
      else staged.set(id, { id, diffId: unpacked.diffId, parent: ids.length > 1 ? ids[ids.length - 2]! : null, size: unpacked.size, tmp });
      const created = new Date().toISOString();
      const blob = commitConfigBlob(opts, diffIds, created);
      this.commit([{ id: sha256Hex(blob), config: opts.config, created, diffIds, layerFiles: [], tags: tag ? [tag] : [] }], staged);
      return this.inspectImage(`sha256:${sha256Hex(blob)}`);
    } finally {
      for (const s of staged.values()) rmSync(s.tmp, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  }

  /**
   * `docker diff`: what the container changed, from its overlay upper
   * directory (see `overlayChanges`). The vfs driver keeps no upper
   * directory to read it from.
   */
  changes(containerId: string): Change[] {
    const mount = this.mountFor(containerId);
    if (mount.type !== 'overlay') {
      throw new LayerStoreError('DRIVER_UNSUPPORTED', `failed to list the changes of container ${containerId}: the vfs storage driver keeps no record of them; use the overlay driver`);
    }
    const lowers = (mount.options.find((o) => o.startsWith('lowerdir='))?.slice('lowerdir='.length) ?? '').split(':').filter((l) => l !== '');
    return overlayChanges(this.sys, join(this.containerDir(containerId), 'diff'), lowers);
  }

  /**
   * Removes the container's directories and its record; with `background`
   * the directories are deleted after this returns (see `idle`). Mounts live
   * only in container namespaces; one still visible here under the directory
   * would make rm -rf delete through it, so that is refused.
   */
  removeContainer(containerId: string, opts: { background?: boolean } = {}): void {
    if (!this.meta.container(containerId)) throw new NoSuchContainerError(containerId);
    const dir = this.containerDir(containerId);
    const busy = this.mounts.under(dir)[0];
    if (busy !== undefined) throw new ContainerBusyError(containerId, busy);
    this.meta.deleteContainer(containerId);
    this.discard(dir, undefined, opts.background === true);
  }

  // ---- housekeeping ---------------------------------------------------------

  /**
   * Removes temporaries (`.tmp-*`, `.del-*`, import spools, stale links) and
   * reports directories and records that disagree. With `removeOrphans`
   * (as `open` runs it) directories without a record go too: left there, a
   * container's would make every later start of that id fail.
   */
  reconcile(opts: { removeOrphans?: boolean } = {}): ReconcileReport {
    const report: ReconcileReport = { removedTemporaries: [], orphanLayers: [], orphanContainers: [], missingLayers: [], missingContainers: [] };
    for (const sub of ['layers', 'containers']) {
      for (const name of readdirSync(join(this.root, sub))) {
        if (TEMP.test(name)) {
          // A killed supervisor's spare layer (a sandbox built ahead, @berth/runtime) stays a mount point
          // until its parked processes have exited, an instant after the kill: EBUSY is retried.
          rmSync(join(this.root, sub, name), { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
          report.removedTemporaries.push(`${sub}/${name}`);
        }
      }
    }
    for (const name of readdirSync(join(this.root, 'blobs', 'sha256'))) {
      if (TEMP.test(name)) {
        rmSync(join(this.root, 'blobs', 'sha256', name), { force: true });
        report.removedTemporaries.push(`blobs/sha256/${name}`);
      }
    }
    for (const name of readdirSync(join(this.root, 'tmp'))) {
      rmSync(join(this.root, 'tmp', name), { recursive: true, force: true });
      report.removedTemporaries.push(`tmp/${name}`);
    }
    const layers = this.meta.layers();
    const shorts = new Set(layers.map((l) => l.short));
    for (const name of readdirSync(join(this.root, 'l'))) {
      if (!shorts.has(name)) {
        rmSync(join(this.root, 'l', name), { force: true });
        report.removedTemporaries.push(`l/${name}`);
      }
    }
    const layerIds = new Set(layers.map((l) => l.id));
    for (const name of readdirSync(join(this.root, 'layers'))) if (!layerIds.has(name)) report.orphanLayers.push(name);
    for (const l of layers) if (!existsSync(this.layerDir(l.id))) report.missingLayers.push(l.id);
    const containerIds = new Set(this.meta.containers().map((c) => c.id));
    for (const name of readdirSync(join(this.root, 'containers'))) if (!containerIds.has(name)) report.orphanContainers.push(name);
    for (const id of containerIds) if (!existsSync(this.containerDir(id))) report.missingContainers.push(id);
    if (opts.removeOrphans === true) {
      for (const id of report.orphanLayers) this.discard(this.layerDir(id));
      for (const id of report.orphanContainers) {
        if (this.mounts.under(this.containerDir(id)).length === 0) this.discard(this.containerDir(id));
      }
    }
    return report;
  }

  diskUsage(): DiskUsage {
    const layers = this.meta.layers();
    const images = this.meta.images();
    const imageBytes = new Set(images.flatMap((i) => this.meta.imageLayers(i.id)));
    return {
      layers: { count: layers.length, bytes: layers.reduce((n, l) => n + l.size, 0) },
      images: { count: images.length, bytes: layers.filter((l) => imageBytes.has(l.id)).reduce((n, l) => n + l.size, 0) },
      containers: { count: this.meta.containers().length },
    };
  }
}

async function* bufferChunks(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/** A layer directory copied with everything overlayfs reads (owners, modes, xattrs, devices, hardlinks). */
function copyTree(from: string, to: string): void {
  const r = spawnSync('cp', ['-a', '--', from, to], { encoding: 'utf8' });
  if (r.status !== 0) throw new LayerStoreError('COPY_FAILED', `failed to copy layer ${from}: ${r.stderr.trim() || `cp exited ${String(r.status)}`}`);
}
