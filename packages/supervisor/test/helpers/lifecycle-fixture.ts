import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinuxSyscalls } from '@berth/syscall';
import { ContainerStore } from '../../src/container-store.js';
import { Lifecycle } from '../../src/lifecycle.js';
import { FakeEngine, FakeImages, killGroup } from './fake-engine.js';

/**
 * A Lifecycle on a fresh temp root, driving host processes through the
 * FakeEngine. `reopen` makes a new Lifecycle on the same store, as a
 * restarted supervisor; `dispose` ends every process it started, by its
 * process group, and removes the root.
 */
export class LifecycleFixture {
  readonly root: string;
  readonly store: ContainerStore;
  readonly engine = new FakeEngine();
  lc: Lifecycle;

  constructor(prefix: string) {
    this.root = mkdtempSync(join(tmpdir(), prefix));
    this.store = ContainerStore.open(join(this.root, 'supervisor.db'));
    this.lc = this.open();
  }

  /** A new Lifecycle on the same root and store (call `lc.close()` on the old one first when it should stop watching). */
  open(): Lifecycle {
    this.lc = new Lifecycle({ root: this.root, store: this.store, engine: this.engine, images: new FakeImages(), syscalls: new LinuxSyscalls(), pollIntervalMs: 20 });
    return this.lc;
  }

  async dispose(): Promise<void> {
    this.lc.close();
    for (const pid of this.engine.pids) await killGroup(pid);
    this.store.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}
