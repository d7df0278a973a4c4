/**
 * Hostile images: layer entries that try to reach outside the layer, in
 * each archive format berth reads, are refused with an error naming the
 * entry; the store is unchanged and no file outside changed. Then, end to
 * end through the supervisor: an image whose mount destination is a symlink
 * pointing outside; the volume lands inside the container, the host
 * sentinel stays as it was.
 *
 * Every escape aims at a sentinel inside this test's temp dir (see
 * harness/hostile.ts): a broken importer writes there, never to /etc.
 */
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinuxSyscalls } from '@berth/syscall';
import { LayerStore } from '@berth/layers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerSave, ociArchive, snapshotStore, tarOf } from '../../packages/layers/test/fixtures.js';
import { DEEP, hostileCases } from './harness/hostile.js';
import { busyboxArchive } from './harness/images.js';
import { Daemon, describeRoot, fingerprint, hostMountTable, mountTableChanges } from '@berth/testing';

const FORMATS = {
  'docker-save': (layer: Buffer) => dockerSave([{ layers: [layer], tags: ['hostile:latest'] }]),
  'OCI layout': (layer: Buffer) => ociArchive({ layers: [layer] }, { refName: 'hostile' }),
  'rootfs tar': (layer: Buffer) => Promise.resolve(layer),
} as const;

describeRoot('hostile images', () => {
  let base: string;
  let sentinel: string;
  let root: string;
  let store: LayerStore;
  let mountsBefore: string;
  /** Everything an escape could touch: the sentinel directory and its files, the directories above the store. */
  let watched: string[];

  beforeAll(() => {
    mountsBefore = hostMountTable();
    base = mkdtempSync(join(tmpdir(), 'berth-hostile-'));
    sentinel = join(base, 'sentinel');
    mkdirSync(join(sentinel, 'dir'), { recursive: true });
    writeFileSync(join(sentinel, 'victim'), 'original victim\n');
    writeFileSync(join(sentinel, 'dir', 'inner'), 'original inner\n');
    // A store deep enough that a few `../` would stay inside the temp dir: the escapes must not rely on that.
    root = join(base, 'a', 'b', 'c', 'd', 'e', 'root');
    mkdirSync(root, { recursive: true });
    store = LayerStore.open(root, { syscalls: new LinuxSyscalls() });
    watched = [sentinel, join(sentinel, 'victim'), join(sentinel, 'dir'), join(sentinel, 'dir', 'inner'), base, join(base, 'a')];
  });

  afterAll(() => {
    store?.close();
    rmSync(base, { recursive: true, force: true });
    expect(mountTableChanges(mountsBefore)).toEqual([]);
  });

  it('the escapes really point at the sentinel (a naive join lands in it)', () => {
    const layerTmp = join(root, 'layers', '.tmp-0123456789ab', 'diff');
    const c = hostileCases(sentinel)[0]!;
    expect(join(layerTmp, c.entries.at(-1)!.name)).toBe(join(sentinel, 'escape-dotdot'));
    expect(DEEP.split('/').length - 1).toBeGreaterThanOrEqual(40);
  });

  for (const [format, wrap] of Object.entries(FORMATS)) {
    for (const c of hostileCases('/SENTINEL')) {
      it(`${format}: ${c.name} is refused, naming the entry; store and sentinel unchanged`, async () => {
        const real = hostileCases(sentinel).find((x) => x.name === c.name)!;
        const archive = join(base, `archive-${format.replace(/\W/g, '')}.tar`);
        writeFileSync(archive, await wrap(await tarOf(real.entries)));
        const storeBefore = snapshotStore(root);
        const hostBefore = fingerprint(watched);
        const result = await store.importImage(archive).then((r) => r, (e: unknown) => e as Error & { code?: string });
        if (real.mayContain && !(result instanceof Error)) {
          // Contained: the symlink was replaced inside the layer, never followed.
          expect(fingerprint(watched)).toEqual(hostBefore);
          for (const img of result.images) store.removeImage(img.id, { force: true });
          return;
        }
        const err = result instanceof Error ? result : undefined;
        expect(err, 'the import was accepted').toBeInstanceOf(Error);
        expect(err?.code).toBe('UNSAFE_ENTRY');
        expect(real.culprits.some((name) => err!.message.includes(JSON.stringify(name))), `error names the entry: ${err?.message}`).toBe(true);
        expect(snapshotStore(root).split('\n'), 'the store changed').toEqual(storeBefore.split('\n'));
        expect(fingerprint(watched)).toEqual(hostBefore);
        expect(readdirSync(sentinel).sort()).toEqual(['dir', 'victim']);
        rmSync(archive);
      });
    }
  }

  it('through the API (POST /images/load): refused in-stream, naming the entry; the supervisor stays up', async () => {
    const daemon = new Daemon({ root: join(base, 'api-root'), socketPath: join(base, 'api.sock'), logPath: join(base, 'api.log'), workers: 1 });
    await daemon.start();
    try {
      for (const c of hostileCases(sentinel)) {
        const archive = join(base, 'api.tar');
        writeFileSync(archive, await FORMATS['docker-save'](await tarOf(c.entries)));
        const hostBefore = fingerprint(watched);
        let text = '';
        for await (const chunk of (await daemon.docker.loadImage(createReadStream(archive))) as AsyncIterable<Buffer>) text += chunk.toString();
        const line = (text.trim().split('\n').map((l) => JSON.parse(l) as { error?: string }).find((l) => l.error !== undefined) ?? {}) as { error?: string };
        expect(fingerprint(watched)).toEqual(hostBefore);
        if (c.mayContain && line.error === undefined) {
          await daemon.docker.getImage('hostile:latest').remove({ force: true });
          continue;
        }
        expect(line.error ?? text, c.name).toMatch(/failed to import layer entry/);
        expect(c.culprits.some((name) => line.error!.includes(JSON.stringify(name))), `${c.name}: ${line.error}`).toBe(true);
        expect(await daemon.alive()).toBe(true);
      }
      expect(await daemon.docker.listImages()).toEqual([]);
    } finally {
      await daemon.stop();
    }
  });

  it('an image whose mount destination is a symlink pointing outside: the volume lands inside the container', async () => {
    const daemon = new Daemon({ root: join(base, 'e2e-root'), socketPath: join(base, 'e2e.sock'), logPath: join(base, 'e2e.log'), workers: 1 });
    await daemon.start();
    const docker = daemon.docker;
    const rel = sentinel.slice(1);
    const targets: Record<string, string> = {
      abs: join(sentinel, 'dir'),
      deep: `${DEEP}${rel}/dir`,
      proc: `/proc/self/root${sentinel}/dir`,
      rootup: `/../../../../../../../../../../${rel}/dir`,
    };
    try {
      const archive = await busyboxArchive(join(base, 'symlinked.tar'), {
        tag: 'symlinked:latest', symlinks: Object.fromEntries(Object.entries(targets).map(([k, v]) => [k, v])),
      });
      for await (const _ of (await docker.loadImage(createReadStream(archive))) as AsyncIterable<Buffer>) { /* drain */ }
      for (const dest of Object.keys(targets)) {
        const hostBefore = fingerprint(watched);
        const volume = `vol-${dest}`;
        const ctr = await docker.createContainer({
          Image: 'symlinked:latest', Cmd: ['sh', '-c', `echo pwned > /${dest}/pwned; echo pwned > /${dest}/inner`],
          HostConfig: { Binds: [`${volume}:/${dest}`] },
        });
        const outcome = await ctr.start().then(async () => (await ctr.wait()) as { StatusCode: number }, (e: Error) => e);
        // Contained: the volume went onto the symlink resolved inside the rootfs; or refused. Never outside.
        expect(fingerprint(watched), `sentinel changed by a mount on /${dest} -> ${targets[dest]}`).toEqual(hostBefore);
        if (!(outcome instanceof Error) && outcome.StatusCode === 0) {
          const data = join(base, 'e2e-root', 'volumes', volume, '_data');
          expect(readFileSync(join(data, 'pwned'), 'utf8')).toBe('pwned\n');
        }
        await ctr.remove({ force: true, v: true });
      }
    } finally {
      for (const c of await docker.listContainers({ all: true }).catch(() => [])) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      await daemon.stop();
    }
    expect(mountTableChanges(mountsBefore)).toEqual([]);
  }, 60_000);
});
