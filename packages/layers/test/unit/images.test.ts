import { existsSync, readdirSync, readlinkSync } from 'node:fs';
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
