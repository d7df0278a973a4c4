import { lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { chainIds } from '../../src/refs.js';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dockerSave, ociArchive, sampleLayers, sha, snapshotStore, tarOf, type FixtureEntry } from '../fixtures.js';
import { tempStore, type TestStore } from './helpers.js';

let t: TestStore;
let before: string;
beforeEach(async () => {
  t = tempStore();
  // Something already in the store, so "unchanged" means more than "empty".
  await t.store.importImage(Readable.from(await dockerSave([{ layers: await sampleLayers(), tags: ['keep'] }])));
  before = snapshotStore(t.root);
});
afterEach(() => t.cleanup());

const deep = '../'.repeat(40);

async function importLayer(entries: FixtureEntry[]): Promise<unknown> {
  const good = await tarOf([{ name: 'ok', body: 'fine' }]);
  const bad = await tarOf(entries);
  return t.store.importImage(Readable.from(await dockerSave([{ layers: [good, bad], tags: ['evil'] }])));
}

// Every escape aims at a sentinel directory inside this test's temp dir, never
// at a host path: if the guard regresses, the damage stays in the sandbox
// and the assertions below see it.
type Case = [string, (outside: string) => FixtureEntry[], string];
const cases: Case[] = [
  ['a deep ../ path', (o) => [{ name: `a/${deep}${o.slice(1)}/evil`, body: 'x' }], 'a/DEEP/evil'],
  ['a leading ../ path', (o) => [{ name: `${deep}${o.slice(1)}/evil`, body: 'x' }], 'DEEP/evil'],
  ['an absolute path', (o) => [{ name: `${o}/evil`, body: 'x' }], 'OUT/evil'],
  ['a write through a symlink planted earlier', (o) => [
    { name: 'escape', type: 'symlink', linkname: `${deep}${o.slice(1)}` },
    { name: 'escape/evil', body: 'x' },
  ], 'escape/evil'],
  ['a directory through a planted symlink', (o) => [
    { name: 'a/', type: 'directory' },
    { name: 'a/b', type: 'symlink', linkname: o },
    { name: 'a/b/sub/', type: 'directory' },
  ], 'a/b/sub/'],
  ['a whiteout through a planted symlink', (o) => [
    { name: 'w', type: 'symlink', linkname: o },
    { name: 'w/.wh.sentinel' },
  ], 'w/.wh.sentinel'],
  ['a hardlink to a deep ../ target', (o) => [{ name: 'h', type: 'link', linkname: `${deep}${o.slice(1)}/sentinel` }], 'h'],
  ['a hardlink to an absolute target', (o) => [{ name: 'h', type: 'link', linkname: `${o}/sentinel` }], 'h'],
  ['a hardlink through a planted symlink', (o) => [
    { name: 's', type: 'symlink', linkname: o },
    { name: 'h', type: 'link', linkname: 's/sentinel' },
  ], 'h'],
  ['a hardlink to a file of another layer', () => [{ name: 'h', type: 'link', linkname: 'ok' }], 'h'],
];

describe('malicious layer entries are refused, naming the entry, and leave the store unchanged', () => {
  it.each(cases)('%s', async (_what, build, entryTemplate) => {
    const outside = join(t.dir, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'sentinel'), 'keep');
    const entries = build(outside);
    const entry = entryTemplate.replace('DEEP', `${deep}${outside.slice(1)}`).replace('OUT', outside).replace('//', '/');
    await expect(importLayer(entries)).rejects.toMatchObject({ code: 'UNSAFE_ENTRY', entry });
    await expect(importLayer(entries)).rejects.toThrow(JSON.stringify(entry));
    expect(snapshotStore(t.root)).toBe(before);
    expect(readdirSync(outside)).toEqual(['sentinel']);
    expect(readFileSync(join(outside, 'sentinel'), 'utf8')).toBe('keep');
    expect(lstatSync(join(outside, 'sentinel')).nlink).toBe(1);
  });
});

describe('bad archives leave the store unchanged', () => {
  it('a truncated docker save archive', async () => {
    const archive = await dockerSave([{ layers: [await tarOf([{ name: 'f', body: 'x'.repeat(5000) }])], tags: ['t'] }]);
    await expect(t.store.importImage(Readable.from(archive.subarray(0, 3000)))).rejects.toMatchObject({ code: 'INVALID_ARCHIVE' });
    expect(snapshotStore(t.root)).toBe(before);
  });

  it('a truncated layer inside a well-formed archive', async () => {
    const layer = await tarOf([{ name: 'f', body: 'x'.repeat(5000) }]);
    const cut = gzipSync(layer).subarray(0, 40);
    const archive = await dockerSave([{ layers: [cut], tags: ['t'], diffIds: [`sha256:${sha(layer)}`] }]);
    await expect(t.store.importImage(Readable.from(archive))).rejects.toMatchObject({ code: 'INVALID_ARCHIVE' });
    expect(snapshotStore(t.root)).toBe(before);
  });

  it('a plain tar cut inside an entry', async () => {
    const rootfs = await tarOf([{ name: 'f', body: 'x'.repeat(5000) }]);
    await expect(t.store.importImage(Readable.from(rootfs.subarray(0, 512 + 3000)), { tag: 'cut' }))
      .rejects.toThrow(/corrupt or truncated/);
    expect(snapshotStore(t.root)).toBe(before);
  });

  it('a layer that does not match the config diffID', async () => {
    const layer = await tarOf([{ name: 'f', body: 'x' }]);
    const archive = await dockerSave([{ layers: [layer], tags: ['t'], diffIds: [`sha256:${'0'.repeat(64)}`] }]);
    await expect(t.store.importImage(Readable.from(archive))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(snapshotStore(t.root)).toBe(before);
  });

  it('an OCI blob whose bytes do not match its digest', async () => {
    const layers = [await tarOf([{ name: 'new', body: 'y' }])];
    await expect(t.store.importImage(Readable.from(await ociArchive({ layers }, { tamper: true }))))
      .rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(snapshotStore(t.root)).toBe(before);
  });

  it('a failure half way through unpacking a layer', async () => {
    t.rec.failNext('lsetxattr', 'EIO');
    const layers = [
      await tarOf([{ name: 'a', body: 'a' }]),
      await tarOf([{ name: 'b', body: 'b' }, { name: 'c', body: 'c', pax: { 'SCHILY.xattr.user.x': '1' } }, { name: 'd', body: 'd' }]),
    ];
    await expect(t.store.importImage(Readable.from(await dockerSave([{ layers, tags: ['x'] }])))).rejects.toThrow(/EIO/);
    expect(snapshotStore(t.root)).toBe(before);
  });

  it('a failure inside the commit undoes the layers already renamed into place', async () => {
    const layers = [await tarOf([{ name: 'a', body: 'a' }]), await tarOf([{ name: 'b', body: 'b' }])];
    const [, second] = chainIds(layers.map((l) => `sha256:${sha(l)}`));
    // A non-empty directory where the second layer goes makes its rename fail.
    const blocker = join(t.root, 'layers', second!);
    mkdirSync(join(blocker, 'x'), { recursive: true });
    await expect(t.store.importImage(Readable.from(await dockerSave([{ layers, tags: ['x'] }])))).rejects.toThrow(/ENOTEMPTY|EEXIST/);
    rmSync(blocker, { recursive: true });
    expect(snapshotStore(t.root)).toBe(before);
  });

  it('a zstd layer, by name, and a load of something that is not an archive', async () => {
    const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(600)]);
    await expect(t.store.importImage(Readable.from(zstd), { format: 'rootfs', tag: 'z' })).rejects.toMatchObject({
      code: 'UNSUPPORTED_COMPRESSION', message: expect.stringContaining('zstd-compressed, which berth does not decode'),
    });
    await expect(t.store.importImage(Readable.from(Buffer.from('hello\n')), { format: 'archive' })).rejects.toMatchObject({
      code: 'INVALID_ARCHIVE', message: expect.stringContaining('not a tar file'),
    });
    const rootfs = await tarOf([{ name: 'etc/hostname', body: 'x' }]);
    await expect(t.store.importImage(Readable.from(rootfs), { format: 'archive' })).rejects.toThrow(/neither manifest.json nor oci-layout/);
    expect(snapshotStore(t.root)).toBe(before);
  });

  it('garbage that is not a tar at all', async () => {
    await expect(t.store.importImage(Readable.from(Buffer.from('not a tar archive'.repeat(64))))).rejects.toMatchObject({ code: 'INVALID_ARCHIVE' });
    expect(snapshotStore(t.root)).toBe(before);
  });
});

describe('startup', () => {
  it('removes half-made directories and the orphans a crash leaves, and reports them', async () => {
    mkdirSync(join(t.root, 'layers', '.tmp-deadbeef', 'diff'), { recursive: true });
    mkdirSync(join(t.root, 'containers', '.del-cafe'), { recursive: true });
    writeFileSync(join(t.root, 'tmp', 'import-x'), '');
    mkdirSync(join(t.root, 'layers', 'f'.repeat(64)));
    // A container directory renamed into place whose record never committed (a SIGKILL in between).
    mkdirSync(join(t.root, 'containers', 'c1', 'diff'), { recursive: true });
    const report = t.reopen().startupReport;
    expect(report.removedTemporaries.sort()).toEqual(['containers/.del-cafe', 'layers/.tmp-deadbeef', 'tmp/import-x']);
    expect(report.orphanLayers).toEqual(['f'.repeat(64)]);
    expect(report.orphanContainers).toEqual(['c1']);
    await t.store.idle();
    expect(readdirSync(join(t.root, 'layers')).some((n) => n.startsWith('.'))).toBe(false);
    expect(snapshotStore(t.root)).toBe(before);
  });

  it('a container whose start a crash interrupted can be prepared again', async () => {
    await t.store.importImage(Readable.from(await dockerSave([{ layers: [await tarOf([{ name: 'a', body: 'a' }])], tags: ['img'] }])));
    mkdirSync(join(t.root, 'containers', 'c1', 'diff'), { recursive: true });
    t.reopen();
    expect(t.store.prepareContainer('c1', 'img').dir).toBe(join(t.root, 'containers', 'c1'));
  });
});
