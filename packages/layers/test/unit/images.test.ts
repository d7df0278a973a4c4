import { existsSync, mkdirSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MOUNT_OPTIONS_LIMIT } from '../../src/store.js';
import { dockerSave, sampleLayers, tarOf } from '../fixtures.js';
import { tempStore, type TestStore } from './helpers.js';

let t: TestStore;
beforeEach(() => { t = tempStore(); });
afterEach(() => t.cleanup());

async function twoImagesSharingABase(): Promise<[string[], string[]]> {
  const layers = await sampleLayers();
  const extra = await tarOf([{ name: 'only-in-b', body: 'b' }]);
  await t.store.importImage(Readable.from(await dockerSave([
    { layers, tags: ['a:1'] },
    { layers: [layers[0]!, extra], tags: ['b:1'], config: { Cmd: ['b'] } },
  ])));
  return [t.store.inspectImage('a:1').layers, t.store.inspectImage('b:1').layers];
}

describe('image operations', () => {
  it('stores shared layers once', async () => {
    const [a, b] = await twoImagesSharingABase();
    expect(a[0]).toBe(b[0]);
    expect(readdirSync(join(t.root, 'layers')).sort()).toEqual([...new Set([...a, ...b])].sort());
    expect(t.store.diskUsage().layers.count).toBe(4);
  });

  it('removing an image releases only the layers no other image uses', async () => {
    const [a, b] = await twoImagesSharingABase();
    const res = t.store.removeImage('a:1');
    expect(res.untagged).toEqual(['a:1']);
    expect(res.deleted).toEqual([t.store.findImage('a:1')?.id ?? expect.stringMatching(/^sha256:/), `sha256:${a[2]}`, `sha256:${a[1]}`]);
    expect(readdirSync(join(t.root, 'layers')).sort()).toEqual([...b].sort());
    expect(readdirSync(join(t.root, 'l'))).toHaveLength(2);
    expect(t.store.listImages().map((i) => i.tags)).toEqual([['b:1']]);
  });

  it('tags: a tag moves, removing one of several tags only untags', async () => {
    await twoImagesSharingABase();
    t.store.tagImage('a:1', 'docker.io/library/alias');
    expect(t.store.inspectImage('alias').id).toBe(t.store.inspectImage('a:1').id);
    expect(t.store.removeImage('alias:latest')).toEqual({ untagged: ['alias:latest'], deleted: [] });
    t.store.tagImage('a:1', 'b:1'); // moves b:1 off image b
    expect(t.store.inspectImage('b:1').id).toBe(t.store.inspectImage('a:1').id);
    const id = t.store.inspectImage('a:1').id;
    expect(() => t.store.removeImage(id)).toThrow(/tagged a:1, b:1/);
    expect(t.store.removeImage(id, { force: true }).untagged).toEqual(['a:1', 'b:1']);
  });

  it('refuses to remove an image a container uses, until the container is gone', async () => {
    await twoImagesSharingABase();
    const layout = t.store.prepareContainer('c1', 'a:1');
    expect(readdirSync(layout.dir).sort()).toEqual(['diff', 'mnt', 'work']);
    expect(t.store.containersUsing('a:1')).toEqual(['c1']);
    expect(() => t.store.removeImage('a:1')).toThrow(/used by container\(s\) c1/);
    expect(() => t.store.removeImage('a:1', { force: true })).toThrow(/IMAGE_IN_USE|used by/);
    expect(() => t.store.prepareContainer('c1', 'a:1')).toThrow(/already exists/);
    t.store.removeContainer('c1');
    expect(existsSync(layout.dir)).toBe(false);
    expect(readdirSync(join(t.root, 'containers'))).toEqual([]);
    expect(t.store.removeImage('a:1').deleted).toHaveLength(3);
  });
});

describe('container skeletons made ahead', () => {
  const layoutOf = (dir: string): string[] =>
    ['', 'diff', 'work', 'mnt'].map((d) => `${d || '.'} ${(statSync(join(dir, d)).mode & 0o7777).toString(8)}`);

  it('makes two spares after the first prepare, and later prepares rename one into place with the same layout', async () => {
    await twoImagesSharingABase();
    const first = t.store.prepareContainer('c1', 'a:1');
    await t.store.idle();
    const spares = readdirSync(join(t.root, 'tmp'));
    expect(spares).toHaveLength(2);
    const second = t.store.prepareContainer('c2', 'a:1');
    expect(readdirSync(join(t.root, 'tmp')).filter((n) => spares.includes(n))).toHaveLength(1);
    expect(layoutOf(second.dir)).toEqual(layoutOf(first.dir));
    expect(layoutOf(second.dir)).toEqual(['. 710', 'diff 755', 'work 700', 'mnt 700']);
    expect(readdirSync(second.dir).sort()).toEqual(['diff', 'mnt', 'work']);
    await t.store.idle();
    expect(readdirSync(join(t.root, 'tmp'))).toHaveLength(2);
  });

  it('close removes the spares; a crash that left some gets them removed at the next open', async () => {
    await twoImagesSharingABase();
    t.store.prepareContainer('c1', 'a:1');
    await t.store.idle();
    const report = t.reopen().startupReport; // close, then open
    expect(report.removedTemporaries).toEqual([]);
    expect(readdirSync(join(t.root, 'tmp'))).toEqual([]);
    mkdirSync(join(t.root, 'tmp', 'container-cafe', 'diff'), { recursive: true }); // what a crash leaves
    expect(t.reopen().startupReport.removedTemporaries).toEqual(['tmp/container-cafe']);
  });

  it('a spare is not spent on a refused prepare; a rename that fails in the transaction leaves neither record nor directory', async () => {
    await twoImagesSharingABase();
    t.store.prepareContainer('c1', 'a:1');
    await t.store.idle();
    // A non-empty directory where c2 goes makes the rename inside the transaction fail.
    mkdirSync(join(t.root, 'containers', 'c2', 'x'), { recursive: true });
    expect(() => t.store.prepareContainer('c2', 'a:1')).toThrow(/already exists/);
    expect(readdirSync(join(t.root, 'tmp'))).toHaveLength(2);
    rmSync(join(t.root, 'containers', 'c2'), { recursive: true });
    // Spares gone behind the store's back: the rename inside the transaction fails, and it rolls back.
    for (const n of readdirSync(join(t.root, 'tmp'))) rmSync(join(t.root, 'tmp', n), { recursive: true });
    expect(() => t.store.prepareContainer('c2', 'a:1')).toThrow(/ENOENT/);
    expect(t.store.containersUsing('a:1')).toEqual(['c1']);
    expect(readdirSync(join(t.root, 'containers'))).toEqual(['c1']);
    await t.store.idle();
    expect(t.store.prepareContainer('c2', 'a:1').dir).toBe(join(t.root, 'containers', 'c2'));
    expect(t.store.containersUsing('a:1').sort()).toEqual(['c1', 'c2']);
  });
});

describe('mounts as data', () => {
  it('gives the overlay with lowerdirs top first through the short links', async () => {
    const [a] = await twoImagesSharingABase();
    const layout = t.store.prepareContainer('c1', 'a:1');
    const m = t.store.mountFor('c1');
    expect(layout.rootfs).toEqual(m);
    expect(m.type).toBe('overlay');
    expect(m.target).toBe(join(t.root, 'containers/c1/mnt'));
    const lowers = m.options[0]!.replace(/^lowerdir=/, '').split(':');
    expect(lowers.map((l) => readlinkSync(l))).toEqual([...a].reverse().map((id) => `../layers/${id}/diff`));
    expect(m.options.slice(1)).toEqual([`upperdir=${layout.diff}`, `workdir=${layout.work}`]);
    expect(() => t.store.mountFor('nope')).toThrow(/failed to find container layout nope/);
  });

  it('keeps 128 layers within one page under a root as long as /var/lib/berth', async () => {
    await t.cleanup();
    t = tempStore('overlay', { rootIsDir: true });
    // mkdtemp under /tmp gives "/tmp/bl-XXXXXX": as long as "/var/lib/berth".
    expect(t.root.length).toBeGreaterThanOrEqual('/var/lib/berth'.length);
    const layers = await Promise.all(Array.from({ length: 128 }, (_, i) => tarOf([{ name: `f${i}`, body: String(i) }])));
    await t.store.importImage(Readable.from(await dockerSave([{ layers, tags: ['deep'] }])));
    const id = 'f'.repeat(64);
    t.store.prepareContainer(id, 'deep');
    const options = t.store.mountFor(id).options.join(',');
    console.info(`[measure] overlay options for 128 layers under ${t.root} (${t.root.length} chars): ${options.length} bytes (limit ${MOUNT_OPTIONS_LIMIT})`);
    expect(options.split(',')[0]!.split(':')).toHaveLength(128);
    expect(options.length).toBeLessThanOrEqual(MOUNT_OPTIONS_LIMIT);
  });
});
