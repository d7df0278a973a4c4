import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { MNT_DETACH, type PrivateMountNamespace, type Syscalls } from '@berth/syscall';
import { copyTree } from './copy-tree.js';
import { hasMountOptions, mountPlanFor, validateDriverOptions } from './driver-options.js';
import {
  InvalidArchiveError, InvalidVolumeOptionError, NoMountNamespaceError, UnsafePathError, VolumeError,
  VolumeInUseError, VolumeMountError, VolumeNotEmptyError, VolumeNotFoundError, isVolumeError,
} from './errors.js';
import { listPredicate, prunePredicate } from './filters.js';
import { assertRealDirInside, DirEntryKinds, isEmptyDir, realDirEntry, removeTree, treeSize } from './fs-safe.js';
import { IMPORT_PREFIX, Layout, tempName } from './layout.js';
import { MetadataDb, type VolumeRecord } from './metadata.js';
import { ANONYMOUS_LABEL, anonymousVolumeName, validateVolumeName } from './names.js';
import { reconcileVolumes } from './reconcile.js';
import { TrashEmptier, type TrashFailure } from './trash.js';
import { exportTree } from './tar-export.js';
import { ArchiveRejection, extractTree } from './tar-import.js';
import type {
  AcquiredVolume, CreateVolumeOptions, ImportReport, PruneOptions, PruneReport, ReconcileReport, ReleasedReference,
  Volume, VolumeFilters, VolumeUsage,
} from './types.js';

export interface VolumeStoreOptions {
  syscalls: Syscalls;
  /** berth's own mount namespace, where driver-option volumes (tmpfs, devices) are mounted. */
  mountNamespace?: PrivateMountNamespace;
}

/**
 * The umask from /proc (setting it to read it back would race with other
 * threads creating files). Unreadable: 0o777, so every mode gets its chmod.
 */
function readUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return parseInt(m[1]!, 8);
  } catch {
    // fall through
  }
  return 0o777;
}

/** The trash batch of one transaction, made on first use. */
interface TrashBatch {
  dir?: string;
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A full disk must not stop a restarted supervisor from serving what it
 * has: the reconcile writes metadata, so it is skipped (and reported) then,
 * and runs at the next open.
 */
function reconcileAtOpen(db: MetadataDb, layout: Layout, trash: TrashEmptier): ReconcileReport {
  try {
    return reconcileVolumes(db, layout, trash);
  } catch (error) {
    if (!isVolumeError(error, 'Metadata') || !/disk is full/.test(error.message)) throw error;
    return { tempsRemoved: [], adopted: [], orphans: [], missingData: [], skipped: error.message };
  }
}

/**
 * Docker's local volume driver over a directory tree and a SQLite database.
 *
 * `<root>/volumes/<name>/_data` holds the data; `<root>/volumes/metadata.db`
 * holds names, labels, options and references. Every change that touches
 * both builds under a temporary name and renames inside the transaction, so
 * another process (or a crash) never sees half of it.
 */
export class VolumeStore {
  readonly #db: MetadataDb;
  readonly #layout: Layout;
  readonly #sys: Syscalls;
  readonly #ns: PrivateMountNamespace | undefined;
  /** Driver-option volumes mounted by this process in its namespace (mounts die with it). */
  readonly #mounted = new Set<string>();
  /**
   * The process's umask, read once: mkdir's mode passes through it, so the
   * modes need a chmod only when it clears one of their bits (the usual 022
   * clears none of 0701 and 0755).
   */
  readonly #umask = readUmask();
  /** Deletes removed volumes' directories off the request. */
  readonly #trash = new TrashEmptier();
  /** What the reconcile at open found. */
  readonly openReport: ReconcileReport;

  private constructor(layout: Layout, db: MetadataDb, opts: VolumeStoreOptions) {
    this.#layout = layout;
    this.#db = db;
    this.#sys = opts.syscalls;
    this.#ns = opts.mountNamespace;
    this.openReport = reconcileAtOpen(db, layout, this.#trash);
  }

  /** Open (creating if needed) the store under `<root>/volumes`, reconciling it. */
  static open(root: string, opts: VolumeStoreOptions): VolumeStore {
    const dir = path.join(root, 'volumes');
    fs.mkdirSync(dir, { recursive: true, mode: 0o701 });
    const layout = new Layout(fs.realpathSync(dir));
    return new VolumeStore(layout, new MetadataDb(layout.dbFile), opts);
  }

  /** `<root>/volumes`, as a real path. */
  get volumesDir(): string {
    return this.#layout.volumesDir;
  }

  /** A volume as the API shows it; written out as one literal, as `list` makes 10,000 of them. */
  readonly #volume = (name: string, driver: string, createdAt: string, labels: Record<string, string>, options: Record<string, string>): Volume => ({
    Name: name, Driver: driver, Mountpoint: this.#layout.dataDir(name), CreatedAt: createdAt, Labels: labels, Scope: 'local', Options: options,
  });

  #toVolume(r: VolumeRecord): Volume {
    return this.#volume(r.name, r.driver, r.createdAt, r.labels, r.options);
  }

  #record(name: string): VolumeRecord {
    const r = this.#db.get(name);
    if (!r) throw new VolumeNotFoundError(name);
    return r;
  }

  /** A fresh `<tmp>/_data` pair with the local driver's modes (0701 / 0755 root). */
  #stage(): string {
    const tmp = this.#layout.temp();
    fs.mkdirSync(tmp, 0o701);
    if ((0o701 & this.#umask) !== 0) fs.chmodSync(tmp, 0o701);
    const data = path.join(tmp, '_data');
    fs.mkdirSync(data, 0o755);
    if ((0o755 & this.#umask) !== 0) fs.chmodSync(data, 0o755);
    this.#sys.lchown(data, 0, 0);
    return tmp;
  }

  /** Rename a staged directory into place; inside the caller's transaction. */
  #place(tmp: string, name: string, onRollback: (undo: () => void) => void): void {
    const final = this.#layout.volumeDir(name);
    if (fs.lstatSync(final, { throwIfNoEntry: false }) !== undefined) {
      // A directory left by a crash between rename and commit: adopt it
      // (Docker treats every directory as a volume) rather than lose its data.
      assertRealDirInside(this.volumesDir, final, `create volume ${name}`);
      if (!fs.existsSync(path.join(final, '_data'))) fs.renameSync(path.join(tmp, '_data'), path.join(final, '_data'));
      return;
    }
    fs.renameSync(tmp, final);
    onRollback(() => fs.renameSync(final, tmp));
  }

  create(opts: CreateVolumeOptions = {}): Volume {
    const driver = opts.driver === undefined || opts.driver === '' ? 'local' : opts.driver;
    if (driver !== 'local') {
      throw new VolumeError('NotFound', `error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    }
    const anonymous = opts.name === undefined || opts.name === '';
    const name = anonymous ? anonymousVolumeName() : (opts.name as string);
    validateVolumeName(name);
    const options = { ...(opts.options ?? {}) };
    validateDriverOptions(options);
    const labels = { ...(opts.labels ?? {}) };
    if (anonymous) labels[ANONYMOUS_LABEL] = '';

    const existing = this.#db.get(name);
    if (existing) return this.#toVolume(existing);
    const tmp = this.#stage();
    try {
      const record = this.#db.transaction((onRollback) => {
        const raced = this.#db.get(name);
        if (raced) return raced;
        const r: VolumeRecord = { name, driver, createdAt: rfc3339(new Date()), labels, options };
        this.#db.insert(r);
        this.#place(tmp, name, onRollback);
        return r;
      });
      return this.#toVolume(record);
    } finally {
      removeTree(tmp);
    }
  }

  inspect(name: string): Volume {
    return this.#toVolume(this.#record(name));
  }

  find(name: string): Volume | undefined {
    const r = this.#db.get(name);
    return r ? this.#toVolume(r) : undefined;
  }

  /** One SELECT; no filesystem calls (Mountpoint is computed from the name). */
  list(filters: VolumeFilters = {}): Volume[] {
    const keep = listPredicate(filters, () => this.#db.refCounts());
    const volumes = this.#db.allAs(this.#volume);
    return keep === undefined ? volumes : volumes.filter(keep);
  }

  /**
   * Remove a volume. Missing: NotFound (ignored with force, as the API's
   * DELETE ?force=1 does). In use: InUse, even with force. The directory is
   * renamed into the trash inside the transaction and deleted off the
   * request, never following a symlink or crossing into another mount.
   */
  remove(name: string, opts: { force?: boolean } = {}): void {
    const batch: TrashBatch = {};
    this.#db.transaction((onRollback) => {
      const r = this.#db.get(name);
      if (!r) {
        if (opts.force) return;
        throw new VolumeNotFoundError(name);
      }
      const refs = this.#db.refsOf(name);
      if (refs.length > 0) throw new VolumeInUseError(name, refs);
      this.#deleteInTransaction(name, batch, onRollback);
    });
    this.#emptyLater(batch);
  }

  /**
   * Remove several volumes in one transaction (`volume rm A B C`, a
   * container's anonymous volumes). Each name is checked as `remove` checks
   * it; one that fails is reported with its error and the others go.
   */
  removeMany(names: readonly string[], opts: { force?: boolean } = {}): { removed: string[]; errors: { name: string; error: VolumeError }[] } {
    const batch: TrashBatch = {};
    const removed: string[] = [];
    const errors: { name: string; error: VolumeError }[] = [];
    this.#db.transaction((onRollback) => {
      for (const name of names) {
        try {
          if (!this.#db.get(name)) {
            if (!opts.force) throw new VolumeNotFoundError(name);
            continue;
          }
          const refs = this.#db.refsOf(name);
          if (refs.length > 0) throw new VolumeInUseError(name, refs);
          this.#deleteInTransaction(name, batch, onRollback);
          removed.push(name);
        } catch (error) {
          if (!(error instanceof VolumeError)) throw error;
          errors.push({ name, error });
        }
      }
    });
    this.#emptyLater(batch);
    return { removed, errors };
  }

  /**
   * Row gone and directory renamed into the transaction's trash batch, in
   * the caller's transaction. The batch is made on first use (and removed
   * again if the transaction rolls back); the caller hands it to
   * `#emptyLater` after the commit. A crash before the commit leaves the
   * row and the directory in the batch: the next open puts it back.
   */
  #deleteInTransaction(name: string, batch: TrashBatch, onRollback: (undo: () => void) => void, kinds?: DirEntryKinds): void {
    const dir = this.#layout.volumeDir(name);
    const what = `remove volume ${name}`;
    if (kinds === undefined ? realDirEntry(dir, what) : kinds.realDir(name, what)) {
      const into = this.#batchDir(batch, onRollback);
      const to = path.join(into, name);
      fs.renameSync(dir, to);
      onRollback(() => fs.renameSync(to, dir));
    }
    this.#db.delete(name);
  }

  #batchDir(batch: TrashBatch, onRollback: (undo: () => void) => void): string {
    if (batch.dir !== undefined) return batch.dir;
    const dir = this.#layout.trashBatch();
    // The emptier removes the trash directory after its last batch: if it did so between
    // the two mkdirs, make it again.
    for (let attempt = 0; ; attempt++) {
      try {
        fs.mkdirSync(this.#layout.trashDir, 0o700);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      try {
        fs.mkdirSync(dir, 0o700);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw error;
      }
    }
    // Registered first, so undone last: after the renames out of it.
    onRollback(() => fs.rmdirSync(dir));
    batch.dir = dir;
    return dir;
  }

  #emptyLater(batch: TrashBatch): void {
    if (batch.dir !== undefined) this.#trash.schedule(batch.dir);
  }

  /**
   * Every unused volume the filters select (anonymous ones only, unless
   * `all`) goes in one transaction; the directories are deleted off the
   * request. As dockerd, a volume that cannot be removed is skipped.
   */
  prune(opts: PruneOptions = {}): PruneReport {
    const keep = prunePredicate(opts.filters);
    const batch: TrashBatch = {};
    const deleted = this.#db.transaction((onRollback) => {
      const counts = this.#db.refCounts();
      const kinds = new DirEntryKinds(this.volumesDir);
      const names: string[] = [];
      for (const r of this.#db.all()) {
        if ((counts.get(r.name) ?? 0) > 0) continue;
        if (!opts.all && !Object.hasOwn(r.labels, ANONYMOUS_LABEL)) continue;
        if (!keep(r)) continue;
        try {
          this.#deleteInTransaction(r.name, batch, onRollback, kinds);
        } catch (error) {
          if (isVolumeError(error, 'UnsafePath')) continue;
          throw error;
        }
        names.push(r.name);
      }
      return names;
    });
    const report: PruneReport = { VolumesDeleted: deleted, SpaceReclaimed: 0 };
    // Measured in the trash, after the commit: nothing can write there any more.
    if (batch.dir !== undefined) {
      for (const name of deleted) report.SpaceReclaimed += treeSize(`${batch.dir}/${name}/_data`);
    }
    this.#emptyLater(batch);
    return report;
  }

  /** Resolves when every directory removed so far is deleted (or failed to be: the failures, kept for the next open). */
  trashSettled(): Promise<readonly TrashFailure[]> {
    return this.#trash.settled();
  }

  #mount(r: VolumeRecord): void {
    const plan = mountPlanFor(r.options);
    if (!plan || this.#mounted.has(r.name)) return;
    if (!this.#ns) throw new NoMountNamespaceError(r.name);
    const target = this.#layout.dataDir(r.name);
    const sys = this.#sys;
    try {
      this.#ns.run(() => {
        sys.mount(plan.source, target, plan.fstype, plan.flags, plan.data);
        if (plan.propagation !== 0) sys.mount(null, target, null, plan.propagation, null);
      });
    } catch (error) {
      throw new VolumeMountError(
        `failed to mount volume ${r.name} (type=${plan.fstype} device=${plan.source}): ${(error as Error).message}; check the volume's driver options`,
        { cause: error },
      );
    }
    this.#mounted.add(r.name);
  }

  #unmountIfUnused(name: string): void {
    if (!this.#mounted.has(name) || !this.#ns || this.#db.refsOf(name).length > 0) return;
    const target = this.#layout.dataDir(name);
    const sys = this.#sys;
    // MNT_DETACH: a release must not fail because a file is still open somewhere.
    this.#ns.run(() => sys.umount2(target, MNT_DETACH));
    this.#mounted.delete(name);
  }

  /** Record that a container uses the volume (persisted); mount driver-option volumes on first use. */
  acquire(name: string, containerId: string): AcquiredVolume {
    return this.acquireAll([name], containerId)[0]!;
  }

  /** `acquire` of several volumes in one transaction: the container holds all of them, or none. */
  acquireAll(names: readonly string[], containerId: string): AcquiredVolume[] {
    return this.#db.transaction(() => names.map((name) => {
      const r = this.#record(name);
      this.#db.addRef(name, containerId);
      this.#mount(r);
      return {
        name,
        dataDir: this.#layout.dataDir(name),
        refCount: this.#db.refsOf(name).length,
        driverMounted: this.#mounted.has(name),
        options: r.options,
      };
    }));
  }

  /**
   * The data directory a starting container binds. Its reference was made
   * at create: when it still holds it and the volume needs no mount of its
   * own (or has it), this only reads, so a start never waits for the write
   * lock. Otherwise it acquires (a driver-option volume that a supervisor
   * restart left unmounted is mounted again).
   */
  dataDirFor(name: string, containerId: string): string {
    const r = this.#db.get(name);
    const ready = r !== undefined && (this.#mounted.has(name) || !mountPlanFor(r.options));
    if (ready && this.#db.holds(name, containerId)) return this.#layout.dataDir(name);
    return this.acquire(name, containerId).dataDir;
  }

  /** Drop one reference (idempotent); unmount a driver-option volume when the last user goes. */
  release(name: string, containerId: string): void {
    this.#db.transaction(() => {
      this.#db.dropRef(name, containerId);
      this.#unmountIfUnused(name);
    });
  }

  /**
   * Drop every reference of a container; returns the volumes it held. With
   * `removeAnonymous` (`--rm`, `rm -v`), its anonymous volumes that nothing
   * else holds go in the same transaction: a crash cannot leave one
   * released but not removed.
   */
  releaseAll(containerId: string, opts: { removeAnonymous?: boolean } = {}): string[] {
    const batch: TrashBatch = {};
    const names = this.#db.transaction((onRollback) => {
      const held = this.#db.volumesOfContainer(containerId);
      this.#db.dropContainer(containerId);
      for (const name of held) {
        this.#unmountIfUnused(name);
        const anonymous = this.#db.get(name)?.labels[ANONYMOUS_LABEL] !== undefined;
        if (opts.removeAnonymous && anonymous && this.#db.refsOf(name).length === 0) {
          this.#deleteInTransaction(name, batch, onRollback);
        }
      }
      return held;
    });
    this.#emptyLater(batch);
    return names;
  }

  /** Drop references held by containers that no longer exist (after a supervisor restart). */
  reconcileReferences(liveContainerIds: ReadonlySet<string>): ReleasedReference[] {
    return this.#db.transaction(() => {
      const dropped: ReleasedReference[] = [];
      for (const { volume, container } of this.#db.allRefs()) {
        if (liveContainerIds.has(container)) continue;
        this.#db.dropRef(volume, container);
        dropped.push({ volume, container });
      }
      for (const volume of new Set(dropped.map((d) => d.volume))) this.#unmountIfUnused(volume);
      return dropped;
    });
  }

  usedBy(name: string): string[] {
    this.#record(name);
    return this.#db.refsOf(name);
  }

  /** Sizes for `system df -v` (one walk per volume; hardlinks counted once). */
  usage(): VolumeUsage[];
  usage(name: string): VolumeUsage;
  usage(name?: string): VolumeUsage | VolumeUsage[] {
    const counts = this.#db.refCounts();
    const one = (r: VolumeRecord): VolumeUsage => ({
      name: r.name,
      size: treeSize(this.#layout.dataDir(r.name)),
      refCount: counts.get(r.name) ?? 0,
    });
    if (name !== undefined) return one(this.#record(name));
    return this.#db.all().map(one);
  }

  #plainDataDir(name: string, verb: string): string {
    const r = this.#record(name);
    if (hasMountOptions(r.options)) {
      throw new InvalidVolumeOptionError(`failed to ${verb} volume ${name}: its data lives on a driver-option mount (type/device/o), which berth does not ${verb}`);
    }
    assertRealDirInside(this.volumesDir, this.#layout.volumeDir(name), `${verb} volume ${name}`);
    const data = this.#layout.dataDir(name);
    assertRealDirInside(this.volumesDir, data, `${verb} volume ${name}`);
    return data;
  }

  /** The volume's data as a tar stream (PAX xattrs, owners, modes, hardlinks). */
  exportTar(name: string): Readable {
    return exportTree(this.#plainDataDir(name, 'export'), this.#sys);
  }

  /**
   * Import a tar stream into a new or empty, unused volume. The archive is
   * extracted into a staging directory inside the volume directory and
   * renamed over the empty `_data` only when the whole stream was good, so a
   * truncated or hostile archive leaves the volume as it was.
   */
  async importTar(name: string, input: Readable): Promise<ImportReport> {
    let created = false;
    if (!this.#db.get(name)) {
      this.create({ name });
      created = true;
    }
    const fail = (error: unknown): never => {
      if (created) this.remove(name, { force: true });
      throw error;
    };
    let staging: string | undefined;
    let entries = 0;
    try {
      const data = this.#plainDataDir(name, 'import');
      const refs = this.#db.refsOf(name);
      if (refs.length > 0) throw new VolumeInUseError(name, refs, 'import into');
      if (!isEmptyDir(data)) throw new VolumeNotEmptyError(name);
      staging = path.join(this.#layout.volumeDir(name), tempName(IMPORT_PREFIX));
      fs.mkdirSync(staging, 0o755);
      try {
        ({ entries } = await extractTree(staging, input, this.#sys));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOSPC' || code === 'EDQUOT') {
          // Not the archive's fault: say so, or the API would answer 400.
          throw new VolumeError('NoSpace', `failed to import into volume ${name}: no space left on device; nothing was imported, free space and retry`, { cause: error });
        }
        const reason = error instanceof ArchiveRejection ? error.message : `the archive could not be read: ${(error as Error).message}`;
        throw new InvalidArchiveError(name, reason, { cause: error });
      }
      const dest = data;
      const stage = staging;
      this.#db.transaction(() => {
        const now = this.#db.refsOf(name);
        if (now.length > 0) throw new VolumeInUseError(name, now, 'import into');
        // rename(2) replaces an empty directory atomically and fails on a non-empty one.
        try {
          fs.renameSync(stage, dest);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (error as NodeJS.ErrnoException).code === 'EEXIST') {
            throw new VolumeNotEmptyError(name);
          }
          throw error;
        }
      });
      staging = undefined;
    } catch (error) {
      if (staging !== undefined) removeTree(staging);
      return fail(error);
    }
    return { volume: this.inspect(name), created, entries };
  }

  /** A new named volume `dst` with a copy of `src`'s data (owners, modes, xattrs, hardlinks kept). */
  clone(src: string, dst: string, opts: { labels?: Record<string, string> } = {}): Volume {
    validateVolumeName(dst);
    const from = this.#record(src);
    const srcData = this.#plainDataDir(src, 'clone');
    if (this.#db.get(dst)) throw new VolumeError('AlreadyExists', `failed to clone volume ${src} to ${dst}: volume ${dst} already exists; choose another name`);
    const labels = { ...(opts.labels ?? from.labels) };
    delete labels[ANONYMOUS_LABEL];
    const tmp = this.#stage();
    try {
      copyTree(srcData, path.join(tmp, '_data'), this.#sys);
      const record = this.#db.transaction((onRollback) => {
        if (this.#db.get(dst)) throw new VolumeError('AlreadyExists', `failed to clone volume ${src} to ${dst}: volume ${dst} already exists; choose another name`);
        if (fs.lstatSync(this.#layout.volumeDir(dst), { throwIfNoEntry: false }) !== undefined) {
          throw new UnsafePathError(`failed to clone volume ${src} to ${dst}: ${this.#layout.volumeDir(dst)} exists without metadata; run reconcile first`);
        }
        const r: VolumeRecord = { name: dst, driver: 'local', createdAt: rfc3339(new Date()), labels, options: {} };
        this.#db.insert(r);
        fs.renameSync(tmp, this.#layout.volumeDir(dst));
        onRollback(() => fs.renameSync(this.#layout.volumeDir(dst), tmp));
        return r;
      });
      return this.#toVolume(record);
    } finally {
      removeTree(tmp);
    }
  }

  /** Compare metadata and directories again (also done by `open`). */
  reconcile(): ReconcileReport {
    return reconcileVolumes(this.#db, this.#layout, this.#trash);
  }

  /** Batches still being emptied stay in the trash; the next open empties them. */
  close(): void {
    this.#trash.close();
    this.#db.close();
  }
}
