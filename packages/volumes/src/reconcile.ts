import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeTree } from './fs-safe.js';
import { IMPORT_PREFIX, TEMP_PREFIX, TRASH_DIR, tempIsStale, type Layout } from './layout.js';
import type { MetadataDb } from './metadata.js';
import { validateVolumeName } from './names.js';
import { trashBatchIsStale, type TrashEmptier } from './trash.js';
import type { ReconcileReport } from './types.js';

function isRealDir(p: string): boolean {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  return st !== undefined && st.isDirectory() && !st.isSymbolicLink();
}

function readdirIfDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

function validName(name: string): boolean {
  try {
    validateVolumeName(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Bring metadata and directories back into agreement after a crash.
 *
 * The scan runs holding SQLite's write lock, so another process's create or
 * remove (which rename inside their own transactions) is never seen half
 * done. Temporary directories of dead processes are removed after the lock
 * is released; directories berth cannot adopt are only reported. Trash
 * batches of dead processes are looked at first: a volume whose row is still
 * there was in a removal that never committed, and goes back; the rest is
 * claimed (renamed to a batch of this process, so two processes opening at
 * once never empty the same one) and handed to `trash` after the lock.
 */
export function reconcileVolumes(db: MetadataDb, layout: Layout, trash: TrashEmptier): ReconcileReport {
  const report: ReconcileReport = { tempsRemoved: [], adopted: [], orphans: [], missingData: [] };
  const stale: string[] = [];
  const claimed: string[] = [];
  const restored: string[] = [];
  const leftTrash: string[] = [];
  db.transaction(() => {
    const known = new Set(db.names());
    for (const batchName of readdirIfDir(layout.trashDir)) {
      const batch = path.join(layout.trashDir, batchName);
      if (!trashBatchIsStale(batchName, batch)) continue;
      for (const name of readdirIfDir(batch)) {
        if (known.has(name) && fs.lstatSync(layout.volumeDir(name), { throwIfNoEntry: false }) === undefined) {
          fs.renameSync(path.join(batch, name), layout.volumeDir(name));
          restored.push(name);
        }
      }
      const mine = layout.trashBatch();
      try {
        fs.renameSync(batch, mine);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // claimed by another process
        throw error;
      }
      claimed.push(mine);
      leftTrash.push(path.join(TRASH_DIR, batchName));
    }
    const present = new Set<string>();
    for (const entry of fs.readdirSync(layout.volumesDir)) {
      const full = path.join(layout.volumesDir, entry);
      if (entry.startsWith('metadata.db') || entry === TRASH_DIR) continue;
      if (entry.startsWith(TEMP_PREFIX)) {
        if (tempIsStale(entry, TEMP_PREFIX)) stale.push(full);
        continue;
      }
      if (known.has(entry)) {
        present.add(entry);
        if (isRealDir(full)) {
          for (const inner of fs.readdirSync(full)) {
            if (inner.startsWith(IMPORT_PREFIX) && tempIsStale(inner, IMPORT_PREFIX)) stale.push(path.join(full, inner));
          }
        }
        continue;
      }
      // A volume directory without metadata: the crash came between the
      // rename and the commit of a create. Register it again, as Docker's
      // local driver does for every directory it finds.
      if (validName(entry) && isRealDir(full) && isRealDir(path.join(full, '_data'))) {
        const st = fs.statSync(full);
        db.insert({
          name: entry,
          driver: 'local',
          createdAt: new Date(Math.floor(st.birthtimeMs || st.mtimeMs)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          // Not labelled anonymous even if it looks so: a plain prune must not delete data we could not vouch for.
          labels: {},
          options: {},
        });
        report.adopted.push(entry);
      } else {
        report.orphans.push(entry);
      }
    }
    for (const name of known) {
      if (present.has(name)) continue;
      db.delete(name);
      report.missingData.push(name);
    }
  });
  for (const batch of claimed) trash.schedule(batch);
  if (restored.length > 0) report.restored = restored.sort();
  if (leftTrash.length > 0) report.trashEmptied = leftTrash.sort();
  for (const dir of stale) {
    try {
      removeTree(dir);
      report.tempsRemoved.push(path.relative(layout.volumesDir, dir));
    } catch {
      report.orphans.push(path.relative(layout.volumesDir, dir));
    }
  }
  return report;
}
