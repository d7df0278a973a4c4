import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingSyscalls } from '@berth/syscall/testing';
import { LayerStore } from '../../src/store.js';

export interface TestStore { store: LayerStore; rec: RecordingSyscalls; root: string; dir: string; cleanup(): Promise<void>; reopen(): LayerStore }

/** A store in a fresh temp dir, on the recording double (no privileges needed). */
export function tempStore(driver: 'overlay' | 'vfs' = 'overlay', opts: { rootIsDir?: boolean } = {}): TestStore {
  const dir = mkdtempSync(join(tmpdir(), opts.rootIsDir === true ? 'bl-' : 'berth-layers-'));
  const root = opts.rootIsDir === true ? dir : join(dir, 'root');
  const rec = new RecordingSyscalls();
  const t: TestStore = {
    store: LayerStore.open(root, { syscalls: rec.syscalls, driver }),
    rec, root, dir,
    cleanup: async () => {
      await t.store.idle(); // spare container skeletons still being made
      t.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
    reopen: () => {
      t.store.close();
      t.store = LayerStore.open(root, { syscalls: rec.syscalls, driver });
      return t.store;
    },
  };
  return t;
}
