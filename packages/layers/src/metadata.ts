import Database from 'better-sqlite3';
import type { ImageConfig } from './types.js';

/**
 * Migrations by `PRAGMA user_version`: entry i brings the schema from
 * version i to i+1. Append only; never edit a shipped entry.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE layers (
     id TEXT PRIMARY KEY,          -- hex chain id
     diff_id TEXT NOT NULL,        -- sha256:<hex> of the uncompressed tar
     parent TEXT REFERENCES layers(id),
     short TEXT NOT NULL UNIQUE,   -- name of the l/<short> link
     size INTEGER NOT NULL,
     created TEXT NOT NULL
   );
   CREATE TABLE images (
     id TEXT PRIMARY KEY,          -- hex of sha256(config blob)
     config TEXT NOT NULL,         -- the exposed ImageConfig as JSON
     created TEXT NOT NULL
   );
   CREATE TABLE image_layers (
     image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
     position INTEGER NOT NULL,
     layer_id TEXT NOT NULL REFERENCES layers(id),
     PRIMARY KEY (image_id, position)
   );
   CREATE INDEX image_layers_layer ON image_layers(layer_id);
   CREATE TABLE tags (
     tag TEXT PRIMARY KEY,         -- normalised short form, name:tag
     image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
   );
   CREATE TABLE containers (
     id TEXT PRIMARY KEY,
     image_id TEXT NOT NULL REFERENCES images(id),
     created TEXT NOT NULL
   );`,
  // Registry images: the config blob as pulled (push, save and history need its exact bytes),
  // the repository digests an image was pulled by, and which compressed blob each layer came
  // from (push sends that blob again instead of a re-tar whose digest would differ).
  `ALTER TABLE images ADD COLUMN config_blob BLOB;
   CREATE TABLE repo_digests (
     ref TEXT PRIMARY KEY,         -- familiar name @ manifest digest
     image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
   );
   CREATE TABLE layer_blobs (
     diff_id TEXT NOT NULL,
     digest TEXT NOT NULL,         -- the compressed blob's digest
     media_type TEXT NOT NULL,
     size INTEGER NOT NULL,
     repository TEXT NOT NULL,     -- domain/path it was pulled from or pushed to
     PRIMARY KEY (diff_id, repository)
   );`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface LayerRow { id: string; diff_id: string; parent: string | null; short: string; size: number; created: string }
export interface ImageRow { id: string; config: string; created: string; config_blob: Buffer | null }
export interface LayerBlobRow { diff_id: string; digest: string; media_type: string; size: number; repository: string }
export interface ContainerRow { id: string; image_id: string; created: string }

export type Db = Database.Database;

export function openDatabase(file: string): Db {
  const db = new Database(file, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  // NORMAL in WAL mode survives a killed process (the case berth must handle);
  // a power loss may drop the latest commits, which the startup reconcile reports
  // as orphans. FULL would fsync on every container create and remove.
  db.pragma('synchronous = NORMAL');
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > SCHEMA_VERSION) {
    db.close();
    throw new Error(`failed to open layer metadata ${file}: schema version ${current} is newer than this berth (${SCHEMA_VERSION}); upgrade berth`);
  }
  // Only when there is something to migrate: an up-to-date store opens
  // without writing, so it opens on a full disk too.
  if (current < SCHEMA_VERSION) {
    db.transaction(() => {
      for (let v = current; v < SCHEMA_VERSION; v++) {
        db.exec(MIGRATIONS[v] ?? '');
      }
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }
  return db;
}

/** Typed queries over the schema; no file system effects here. */
export class Metadata {
  /** Prepared once: preparing a statement costs more than running it (a launch makes several). */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly db: Db) {}

  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  layer(id: string): LayerRow | undefined {
    return this.stmt('SELECT * FROM layers WHERE id = ?').get(id) as LayerRow | undefined;
  }
  layers(): LayerRow[] {
    return this.stmt('SELECT * FROM layers').all() as LayerRow[];
  }
  insertLayer(row: LayerRow): void {
    this.stmt('INSERT INTO layers (id, diff_id, parent, short, size, created) VALUES (?, ?, ?, ?, ?, ?)')
      .run(row.id, row.diff_id, row.parent, row.short, row.size, row.created);
  }
  shortTaken(short: string): boolean {
    return this.stmt('SELECT 1 FROM layers WHERE short = ?').get(short) !== undefined;
  }
  /** Layers no image refers to, top of each chain first so children go before parents. */
  unreferencedLayers(): LayerRow[] {
    const rows = this.stmt(
      'SELECT * FROM layers WHERE id NOT IN (SELECT layer_id FROM image_layers)').all() as LayerRow[];
    return rows;
  }
  deleteLayer(id: string): void {
    this.stmt('DELETE FROM layers WHERE id = ?').run(id);
  }

  image(id: string): ImageRow | undefined {
    return this.stmt('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
  }
  images(): ImageRow[] {
    return this.stmt('SELECT * FROM images ORDER BY created DESC, id').all() as ImageRow[];
  }
  imagesByPrefix(prefix: string): ImageRow[] {
    return this.stmt("SELECT * FROM images WHERE id LIKE ? || '%'").all(prefix) as ImageRow[];
  }
  insertImage(id: string, config: ImageConfig, created: string, layers: readonly string[]): void {
    this.stmt('INSERT INTO images (id, config, created) VALUES (?, ?, ?)').run(id, JSON.stringify(config), created);
    const stmt = this.stmt('INSERT INTO image_layers (image_id, position, layer_id) VALUES (?, ?, ?)');
    layers.forEach((layer, i) => stmt.run(id, i, layer));
  }
  setConfigBlob(id: string, blob: Buffer): void {
    this.stmt('UPDATE images SET config_blob = ? WHERE id = ? AND config_blob IS NULL').run(blob, id);
  }
  repoDigestsOf(imageId: string): string[] {
    return (this.stmt('SELECT ref FROM repo_digests WHERE image_id = ? ORDER BY ref').all(imageId) as { ref: string }[]).map((r) => r.ref);
  }
  imageOfRepoDigest(ref: string): string | undefined {
    return (this.stmt('SELECT image_id FROM repo_digests WHERE ref = ?').get(ref) as { image_id: string } | undefined)?.image_id;
  }
  setRepoDigest(ref: string, imageId: string): void {
    this.stmt('INSERT INTO repo_digests (ref, image_id) VALUES (?, ?) ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id').run(ref, imageId);
  }
  layerBlobs(diffId: string): LayerBlobRow[] {
    return this.stmt('SELECT * FROM layer_blobs WHERE diff_id = ?').all(diffId) as LayerBlobRow[];
  }
  setLayerBlob(row: LayerBlobRow): void {
    this.stmt(`INSERT INTO layer_blobs (diff_id, digest, media_type, size, repository) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(diff_id, repository) DO UPDATE SET digest = excluded.digest, media_type = excluded.media_type, size = excluded.size`)
      .run(row.diff_id, row.digest, row.media_type, row.size, row.repository);
  }
  deleteImage(id: string): void {
    this.stmt('DELETE FROM images WHERE id = ?').run(id);
  }
  imageLayers(id: string): string[] {
    return (this.stmt('SELECT layer_id FROM image_layers WHERE image_id = ? ORDER BY position').all(id) as { layer_id: string }[])
      .map((r) => r.layer_id);
  }
  imageSize(id: string): number {
    const row = this.stmt(
      'SELECT COALESCE(SUM(l.size), 0) AS size FROM image_layers il JOIN layers l ON l.id = il.layer_id WHERE il.image_id = ?',
    ).get(id) as { size: number };
    return row.size;
  }

  tagsOf(imageId: string): string[] {
    return (this.stmt('SELECT tag FROM tags WHERE image_id = ? ORDER BY tag').all(imageId) as { tag: string }[]).map((r) => r.tag);
  }
  imageOfTag(tag: string): string | undefined {
    return (this.stmt('SELECT image_id FROM tags WHERE tag = ?').get(tag) as { image_id: string } | undefined)?.image_id;
  }
  /** Points `tag` at `imageId`, moving it from another image if needed (docker semantics). */
  setTag(tag: string, imageId: string): void {
    this.stmt('INSERT INTO tags (tag, image_id) VALUES (?, ?) ON CONFLICT(tag) DO UPDATE SET image_id = excluded.image_id')
      .run(tag, imageId);
  }
  deleteTag(tag: string): void {
    this.stmt('DELETE FROM tags WHERE tag = ?').run(tag);
  }

  container(id: string): ContainerRow | undefined {
    return this.stmt('SELECT * FROM containers WHERE id = ?').get(id) as ContainerRow | undefined;
  }
  containers(): ContainerRow[] {
    return this.stmt('SELECT * FROM containers').all() as ContainerRow[];
  }
  insertContainer(id: string, imageId: string, created: string): void {
    this.stmt('INSERT INTO containers (id, image_id, created) VALUES (?, ?, ?)').run(id, imageId, created);
  }
  deleteContainer(id: string): void {
    this.stmt('DELETE FROM containers WHERE id = ?').run(id);
  }
  containersUsing(imageId: string): string[] {
    return (this.stmt('SELECT id FROM containers WHERE image_id = ? ORDER BY id').all(imageId) as { id: string }[]).map((r) => r.id);
  }
}
