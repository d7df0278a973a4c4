import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConflictError, NoSuchContainerError } from './errors.js';
import { defaultConfig, defaultHostConfig, readLastCap, resolveSecurity } from '@berth/runtime';
import type { ContainerConfig, ContainerSpec, HostConfig, MountSpec, NetworkingConfig, ResolvedSecurity } from '@berth/runtime';

export type ContainerState = 'created' | 'running' | 'exited' | 'removing' | 'dead';

/** One container, as the store keeps it. Timestamps are RFC 3339 strings; '' when never set. */
export interface ContainerRecord {
  id: string;
  name: string;
  /** The reference the user gave (`busybox`, `sha256:…`). */
  image: string;
  imageId: string;
  /** The resolved Config (image merged in at create): what inspect shows and the launch reads. */
  config: ContainerConfig;
  /** The resolved HostConfig, every field defaulted as Docker stores it. */
  hostConfig: HostConfig;
  networkingConfig: NetworkingConfig;
  /** The mounts resolved at create, in mount order; volume sources are volume names. */
  mounts: MountSpec[];
  /** The security settings resolved at create (capabilities, seccomp, paths, groups, limits). */
  security: ResolvedSecurity;
  state: ContainerState;
  pid: number;
  /** /proc/PID/stat start time in clock ticks; with pid, identifies the process across restarts. */
  startTime: number;
  exitCode: number;
  error: string;
  oomKilled: boolean;
  created: string;
  startedAt: string;
  finishedAt: string;
  autoRemove: boolean;
  /** Names of the anonymous volumes made for it at create (removed by `rm -v` and `--rm`). */
  anonymousVolumes: string[];
  /** Restarts the restart policy made since a user last started it (inspect's RestartCount). */
  restartCount: number;
  /** Ended by `stop`: `unless-stopped` then stays down, even across supervisor restarts. */
  manuallyStopped: boolean;
}

interface Row {
  id: string; name: string; image: string; image_id: string; config: string; host_config: string; mounts: string;
  state: string; pid: number; start_time: number; exit_code: number; error: string; oom: number; created: string;
  started_at: string; finished_at: string; auto_remove: number; anonymous_volumes: string;
  restart_count: number; manually_stopped: number; networking_config: string; security: string;
}

// Each entry upgrades the schema by one version (PRAGMA user_version); never edit a shipped one.
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE containers (
     id TEXT PRIMARY KEY CHECK (length(id) = 64),
     name TEXT NOT NULL UNIQUE,
     image TEXT NOT NULL,
     image_id TEXT NOT NULL,
     config TEXT NOT NULL,
     host_config TEXT NOT NULL,
     mounts TEXT NOT NULL DEFAULT '[]',
     state TEXT NOT NULL CHECK (state IN ('created','running','exited','removing','dead')),
     pid INTEGER NOT NULL DEFAULT 0,
     start_time INTEGER NOT NULL DEFAULT 0,
     exit_code INTEGER NOT NULL DEFAULT 0,
     error TEXT NOT NULL DEFAULT '',
     oom INTEGER NOT NULL DEFAULT 0,
     created TEXT NOT NULL,
     started_at TEXT NOT NULL DEFAULT '',
     finished_at TEXT NOT NULL DEFAULT '',
     auto_remove INTEGER NOT NULL DEFAULT 0,
     anonymous_volumes TEXT NOT NULL DEFAULT '[]'
   );
   CREATE INDEX containers_state ON containers(state);`,
  `ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE containers ADD COLUMN manually_stopped INTEGER NOT NULL DEFAULT 0;`,
  // Version 3: the record is the resolved container (Config, HostConfig defaulted; mounts as specs).
  `ALTER TABLE containers ADD COLUMN networking_config TEXT NOT NULL DEFAULT '{"EndpointsConfig":{}}';
   ALTER TABLE containers ADD COLUMN security TEXT NOT NULL DEFAULT '{}';`,
];

/**
 * Rows written before version 3 kept the create request and the inspect
 * view of the mounts of the last start. They become resolved records once,
 * when the schema is upgraded: the request over Docker's defaults, and the
 * mounts as the specs they were started with.
 */
function upgradeRequestRow(db: Database.Database): void {
  const rows = db.prepare('SELECT id, image, config, host_config, mounts FROM containers').all() as
    Array<{ id: string; image: string; config: string; host_config: string; mounts: string }>;
  const update = db.prepare('UPDATE containers SET config = ?, host_config = ?, mounts = ?, security = ? WHERE id = ?');
  for (const r of rows) {
    const config = { ...defaultConfig(r.image), Hostname: r.id.slice(0, 12), ...dropNulls(JSON.parse(r.config)) };
    const hostConfig = { ...defaultHostConfig(), ...dropNulls(JSON.parse(r.host_config)) };
    const seen = JSON.parse(r.mounts) as Array<{ Type: MountSpec['type']; Name?: string; Source: string; Destination: string; RW: boolean; Mode: string; Propagation: string }>;
    const mounts: MountSpec[] = seen.map((m) => ({
      type: m.Type, source: m.Type === 'volume' ? (m.Name ?? '') : m.Source, destination: m.Destination, readOnly: !m.RW,
      propagation: m.Type === 'bind' && m.Propagation !== '' ? m.Propagation as MountSpec['propagation'] : 'rprivate',
      recursive: 'enabled', createSource: m.Type === 'bind', nocopy: true, anonymous: m.Type === 'volume' && /^[0-9a-f]{64}$/.test(m.Name ?? ''),
      ...(m.Mode !== '' ? { mode: m.Mode } : {}),
    }));
    // Those containers ran with Docker's defaults: no request field could change them before.
    const security = resolveSecurity({}, { lastCap: readLastCap() });
    update.run(JSON.stringify(config), JSON.stringify(hostConfig), JSON.stringify(mounts), JSON.stringify(security), r.id);
  }
}

function dropNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
}

function fromRow(r: Row): ContainerRecord {
  return {
    id: r.id, name: r.name, image: r.image, imageId: r.image_id,
    config: JSON.parse(r.config) as ContainerConfig,
    hostConfig: JSON.parse(r.host_config) as HostConfig,
    networkingConfig: JSON.parse(r.networking_config) as NetworkingConfig,
    mounts: JSON.parse(r.mounts) as MountSpec[],
    security: JSON.parse(r.security) as ResolvedSecurity,
    state: r.state as ContainerState, pid: r.pid, startTime: r.start_time, exitCode: r.exit_code,
    error: r.error, oomKilled: r.oom !== 0, created: r.created, startedAt: r.started_at,
    finishedAt: r.finished_at, autoRemove: r.auto_remove !== 0,
    anonymousVolumes: JSON.parse(r.anonymous_volumes) as string[],
    restartCount: r.restart_count, manuallyStopped: r.manually_stopped !== 0,
  };
}

export type ContainerUpdate = Partial<Omit<ContainerRecord, 'id' | 'name' | 'created'>>;

const COLUMN: Record<keyof ContainerUpdate, string> = {
  image: 'image', imageId: 'image_id', config: 'config', hostConfig: 'host_config', networkingConfig: 'networking_config', mounts: 'mounts',
  security: 'security',
  state: 'state', pid: 'pid', startTime: 'start_time', exitCode: 'exit_code', error: 'error', oomKilled: 'oom',
  startedAt: 'started_at', finishedAt: 'finished_at', autoRemove: 'auto_remove', anonymousVolumes: 'anonymous_volumes',
  restartCount: 'restart_count', manuallyStopped: 'manually_stopped',
};

function toColumnValue(key: keyof ContainerUpdate, value: unknown): unknown {
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

/** The containers table in `<root>/supervisor.db` (WAL, migrations by user_version). */
export class ContainerStore {
  /** Prepared once per SQL text: preparing costs more than running (each launch makes several; `update`'s column sets are few). */
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(private readonly db: Database.Database) {}

  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  static open(path: string): ContainerStore {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const db = new Database(path, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    const migrate = db.transaction(() => {
      for (let v = version; v < MIGRATIONS.length; v++) {
        db.exec(MIGRATIONS[v]!);
        if (v === 2) upgradeRequestRow(db);
      }
      db.pragma(`user_version = ${MIGRATIONS.length}`);
    });
    if (version < MIGRATIONS.length) migrate();
    return new ContainerStore(db);
  }

  insert(rec: ContainerRecord): void {
    try {
      this.stmt(
        `INSERT INTO containers (id, name, image, image_id, config, host_config, mounts, state, pid, start_time,
           exit_code, error, oom, created, started_at, finished_at, auto_remove, anonymous_volumes, restart_count, manually_stopped,
           networking_config, security)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        rec.id, rec.name, rec.image, rec.imageId, JSON.stringify(rec.config), JSON.stringify(rec.hostConfig),
        JSON.stringify(rec.mounts), rec.state, rec.pid, rec.startTime, rec.exitCode, rec.error, rec.oomKilled ? 1 : 0,
        rec.created, rec.startedAt, rec.finishedAt, rec.autoRemove ? 1 : 0, JSON.stringify(rec.anonymousVolumes),
        rec.restartCount, rec.manuallyStopped ? 1 : 0, JSON.stringify(rec.networkingConfig), JSON.stringify(rec.security),
      );
    } catch (err) {
      if (String((err as { code?: unknown }).code ?? '').startsWith('SQLITE_CONSTRAINT')) throw this.nameConflict(rec.name);
      throw err;
    }
  }

  /** Gives the container another name; a name in use is Docker's conflict. */
  rename(id: string, name: string): void {
    try {
      if (this.stmt('UPDATE containers SET name = ? WHERE id = ?').run(name, id).changes === 0) throw new NoSuchContainerError(id);
    } catch (err) {
      if (String((err as { code?: unknown }).code ?? '').startsWith('SQLITE_CONSTRAINT')) throw this.nameConflict(name);
      throw err;
    }
  }

  /** Docker's conflict for a container name in use. */
  nameConflict(name: string): ConflictError {
    return new ConflictError(
      `Conflict. The container name "/${name}" is already in use by container "${this.byName(name)?.id ?? '?'}". ` +
      'You have to remove (or rename) that container to be able to reuse that name.',
    );
  }

  update(id: string, changes: ContainerUpdate): ContainerRecord {
    const keys = Object.keys(changes) as (keyof ContainerUpdate)[];
    if (keys.length > 0) {
      const sets = keys.map((k) => `${COLUMN[k]} = ?`).join(', ');
      const values = keys.map((k) => toColumnValue(k, changes[k]));
      const res = this.stmt(`UPDATE containers SET ${sets} WHERE id = ?`).run(...values, id);
      if (res.changes === 0) throw new NoSuchContainerError(id);
    }
    return this.get(id);
  }

  delete(id: string): void {
    this.stmt('DELETE FROM containers WHERE id = ?').run(id);
  }

  find(id: string): ContainerRecord | undefined {
    const row = this.stmt('SELECT * FROM containers WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  get(id: string): ContainerRecord {
    const rec = this.find(id);
    if (!rec) throw new NoSuchContainerError(id);
    return rec;
  }

  byName(name: string): ContainerRecord | undefined {
    const row = this.stmt('SELECT * FROM containers WHERE name = ?').get(name) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /**
   * Docker's resolution order: full id, exact name (with or without "/"),
   * then a unique id prefix. An ambiguous prefix is an error, not a guess.
   */
  resolve(ref: string): ContainerRecord {
    if (ref.length === 0) throw new NoSuchContainerError(ref);
    if (/^[0-9a-f]{64}$/.test(ref)) {
      const rec = this.find(ref);
      if (rec) return rec;
    }
    const named = this.byName(ref.startsWith('/') ? ref.slice(1) : ref);
    if (named) return named;
    if (/^[0-9a-f]+$/.test(ref)) {
      const rows = this.stmt("SELECT * FROM containers WHERE id LIKE ? || '%' LIMIT 2").all(ref) as Row[];
      if (rows.length === 1) return fromRow(rows[0]!);
      if (rows.length > 1) {
        throw new ConflictError(`multiple IDs found with provided prefix: ${ref}; give more characters of the id`);
      }
    }
    throw new NoSuchContainerError(ref);
  }

  /** The parts of a record that are the resolved container (what `Runtime.start` takes). */
  static specOf(rec: ContainerRecord): ContainerSpec {
    return {
      imageId: rec.imageId, config: rec.config, hostConfig: rec.hostConfig, networkingConfig: rec.networkingConfig, mounts: rec.mounts,
      security: rec.security,
    };
  }

  list(): ContainerRecord[] {
    return (this.stmt('SELECT * FROM containers ORDER BY created DESC, rowid DESC').all() as Row[]).map(fromRow);
  }

  listByState(state: ContainerState): ContainerRecord[] {
    return (this.stmt('SELECT * FROM containers WHERE state = ?').all(state) as Row[]).map(fromRow);
  }

  nameTaken(name: string): boolean {
    return this.stmt('SELECT 1 FROM containers WHERE name = ?').get(name) !== undefined;
  }

  close(): void {
    this.db.close();
  }
}
