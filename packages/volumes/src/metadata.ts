import Database from 'better-sqlite3';
import { VolumeError } from './errors.js';

/** One volume's row, labels and options already parsed. */
export interface VolumeRecord {
  name: string;
  driver: string;
  createdAt: string;
  labels: Record<string, string>;
  options: Record<string, string>;
}

interface VolumeRow {
  name: string;
  driver: string;
  created_at: string;
  labels: string;
  options: string;
}

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many
 * ran. Append, never edit: a released database has already run the old ones.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE volumes (
     name       TEXT PRIMARY KEY,
     driver     TEXT NOT NULL,
     created_at TEXT NOT NULL,
     labels     TEXT NOT NULL,  -- JSON object, so list is one SELECT
     options    TEXT NOT NULL   -- JSON object
   ) WITHOUT ROWID;
   CREATE TABLE refs (
     volume      TEXT NOT NULL REFERENCES volumes(name),
     container   TEXT NOT NULL,
     acquired_at TEXT NOT NULL,
     UNIQUE (volume, container)
   );  -- a rowid table: rowid keeps acquire order for "in use - [ids]"
   CREATE INDEX refs_by_container ON refs(container);`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Most volumes have no labels or options: skip JSON.parse for them (list of 10,000). */
function parseObject(text: string): Record<string, string> {
  return text === '{}' ? {} : (JSON.parse(text) as Record<string, string>);
}

function retryBusy<T>(fn: () => T, timeoutMs = 10_000): T {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return fn();
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

function toRecord(row: VolumeRow): VolumeRecord {
  return {
    name: row.name,
    driver: row.driver,
    createdAt: row.created_at,
    labels: parseObject(row.labels),
    options: parseObject(row.options),
  };
}

/**
 * The SQLite side of the store. Every method is one statement; callers group
 * them with `transaction` so a multi-step change commits or rolls back whole.
 * WAL lets readers run beside one writer; busy_timeout makes a second process
 * wait for the write lock instead of failing with SQLITE_BUSY.
 */
export class MetadataDb {
  readonly #db: Database.Database;
  readonly #stmts;

  readonly #file: string;
  /** Undo actions of the transaction in progress. */
  #undo: (() => void)[] | undefined;

  constructor(file: string) {
    this.#file = file;
    try {
      this.#db = new Database(file, { timeout: 10_000 });
      this.#db.pragma('busy_timeout = 10000');
      // Switching a new database to WAL needs an exclusive lock and SQLite
      // does not wait for it through the busy handler: two processes opening
      // a fresh root at once get SQLITE_BUSY here, so wait and retry.
      retryBusy(() => this.#db.pragma('journal_mode = WAL'));
      this.#db.pragma('synchronous = NORMAL');
      this.#db.pragma('foreign_keys = ON');
      retryBusy(() => this.#migrate());
    } catch (error) {
      if (error instanceof VolumeError) throw error;
      throw new VolumeError('Metadata', `failed to open volume metadata ${file}: ${(error as Error).message}`, { cause: error });
    }
    const db = this.#db;
    this.#stmts = {
      get: db.prepare<[string], VolumeRow>('SELECT name, driver, created_at, labels, options FROM volumes WHERE name = ?'),
      // raw rows (arrays): a third faster than row objects for a list of 10,000
      all: db.prepare('SELECT name, driver, created_at, labels, options FROM volumes ORDER BY name').raw(true),
      names: db.prepare<[], { name: string }>('SELECT name FROM volumes'),
      insert: db.prepare('INSERT INTO volumes (name, driver, created_at, labels, options) VALUES (?, ?, ?, ?, ?)'),
      delete: db.prepare('DELETE FROM volumes WHERE name = ?'),
      refsOf: db.prepare<[string], { container: string }>('SELECT container FROM refs WHERE volume = ? ORDER BY rowid'),
      refCounts: db.prepare<[], { volume: string; n: number }>('SELECT volume, count(*) AS n FROM refs GROUP BY volume'),
      addRef: db.prepare('INSERT OR IGNORE INTO refs (volume, container, acquired_at) VALUES (?, ?, ?)'),
      holds: db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM refs WHERE volume = ? AND container = ?'),
      dropRef: db.prepare('DELETE FROM refs WHERE volume = ? AND container = ?'),
      refsOfContainer: db.prepare<[string], { volume: string }>('SELECT volume FROM refs WHERE container = ? ORDER BY volume'),
      dropContainer: db.prepare('DELETE FROM refs WHERE container = ?'),
      allRefs: db.prepare<[], { volume: string; container: string }>('SELECT volume, container FROM refs'),
      dropVolumeRefs: db.prepare('DELETE FROM refs WHERE volume = ?'),
    };
  }

  #migrate(): void {
    const step = this.#db.transaction(() => {
      // Read the version inside the write lock: two processes may open a new root at once.
      const version = this.#db.pragma('user_version', { simple: true }) as number;
      if (version > MIGRATIONS.length) {
        throw new VolumeError(
          'Metadata',
          `failed to open volume metadata: schema version ${version} is newer than this berth (${MIGRATIONS.length}); upgrade berth`,
        );
      }
      for (let v = version; v < MIGRATIONS.length; v++) this.#db.exec(MIGRATIONS[v] as string);
      if (version !== MIGRATIONS.length) this.#db.pragma(`user_version = ${MIGRATIONS.length}`);
    });
    step.immediate();
  }

  /**
   * Run `fn` holding SQLite's write lock; any throw rolls everything back.
   * `fn` registers how to undo each change it makes on disk (a rename) with
   * `onRollback`: if `fn` or the commit fails (a full disk fails the commit
   * after `fn` returned), those run in reverse, so the directories match
   * the metadata again.
   */
  transaction<T>(fn: (onRollback: (undo: () => void) => void) => T): T {
    const outer = this.#undo;
    if (this.#db.inTransaction) return fn((undo) => outer?.push(undo));
    const undo: (() => void)[] = [];
    this.#undo = undo;
    try {
      return this.#db.transaction(() => fn((u) => undo.push(u))).immediate();
    } catch (error) {
      for (const u of undo.reverse()) {
        try {
          u();
        } catch {
          // Left for the reconcile at the next open to report.
        }
      }
      if ((error as { code?: string }).code === 'SQLITE_FULL') {
        throw new VolumeError('Metadata', `failed to write volume metadata ${this.#file}: the disk is full; nothing was changed, free space and retry`, { cause: error });
      }
      throw error;
    } finally {
      this.#undo = undefined;
    }
  }

  get(name: string): VolumeRecord | undefined {
    const row = this.#stmts.get.get(name);
    return row ? toRecord(row) : undefined;
  }
  all(): VolumeRecord[] {
    return this.allAs((name, driver, createdAt, labels, options) => ({ name, driver, createdAt, labels, options }));
  }
  /**
   * Every volume in name order, each made by `make` straight from its row:
   * `list` builds 10,000 API objects with no record in between (half its
   * time went to making and dropping those).
   */
  allAs<T>(make: (name: string, driver: string, createdAt: string, labels: Record<string, string>, options: Record<string, string>) => T): T[] {
    const rows = this.#stmts.all.all() as [string, string, string, string, string][];
    const out = new Array<T>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      out[i] = make(row[0], row[1], row[2], parseObject(row[3]), parseObject(row[4]));
    }
    return out;
  }
  names(): string[] {
    return this.#stmts.names.all().map((r) => r.name);
  }
  insert(record: VolumeRecord): void {
    this.#stmts.insert.run(record.name, record.driver, record.createdAt, JSON.stringify(record.labels), JSON.stringify(record.options));
  }
  delete(name: string): void {
    this.#stmts.dropVolumeRefs.run(name);
    this.#stmts.delete.run(name);
  }
  refsOf(name: string): string[] {
    return this.#stmts.refsOf.all(name).map((r) => r.container);
  }
  /** Whether `container` holds a reference to the volume. */
  holds(name: string, container: string): boolean {
    return this.#stmts.holds.get(name, container) !== undefined;
  }
  refCounts(): Map<string, number> {
    return new Map(this.#stmts.refCounts.all().map((r) => [r.volume, r.n]));
  }
  /** Returns true when the reference is new. */
  addRef(name: string, container: string): boolean {
    return this.#stmts.addRef.run(name, container, new Date().toISOString()).changes > 0;
  }
  dropRef(name: string, container: string): boolean {
    return this.#stmts.dropRef.run(name, container).changes > 0;
  }
  volumesOfContainer(container: string): string[] {
    return this.#stmts.refsOfContainer.all(container).map((r) => r.volume);
  }
  dropContainer(container: string): void {
    this.#stmts.dropContainer.run(container);
  }
  allRefs(): { volume: string; container: string }[] {
    return this.#stmts.allRefs.all();
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
