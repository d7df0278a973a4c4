import { lstatSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OVERLAY_OPAQUE_XATTR, S_IFCHR, S_IFIFO, makedev } from '@berth/syscall';
import type { ImportProgress } from '../../src/types.js';
import { dockerSave, ociArchive, sampleLayers, sha, tarOf } from '../fixtures.js';
import { tempStore, type TestStore } from './helpers.js';

let t: TestStore;
beforeEach(() => { t = tempStore(); });
afterEach(() => t.cleanup());

describe('importing a docker save archive', () => {
  it('records the image, its tags in short form and its config', async () => {
    const layers = await sampleLayers();
    const res = await t.store.importImage(Readable.from(await dockerSave([{ layers, tags: ['docker.io/library/sample:1'] }])));
    expect(res.images).toHaveLength(1);
    const img = t.store.inspectImage('sample:1');
    expect(img.tags).toEqual(['sample:1']);
    expect(img.config).toEqual({
      Cmd: ['/bin/sh'], Env: ['PATH=/bin'], WorkingDir: '/srv', User: '1000', Labels: { a: 'b' }, Volumes: { '/data': {} },
      ExposedPorts: { '80/tcp': {} },
    });
    expect(img.layers).toHaveLength(3);
    expect(img.layers[0]).toBe(sha(layers[0]!));
    for (const ref of [img.id, img.id.slice(7), img.id.slice(0, 19), 'docker.io/library/sample:1']) {
      expect(t.store.findImage(ref)?.id).toBe(img.id);
    }
    expect(() => t.store.inspectImage('nope')).toThrow('No such image: nope');
  });

  it('unpacks files, hardlinks across directories, symlinks, modes and mtimes', async () => {
    const layers = await sampleLayers();
    const [img] = (await t.store.importImage(Readable.from(await dockerSave([{ layers, tags: ['s'] }])))).images;
    const base = join(t.root, 'layers', img!.layers[0]!, 'diff');
    expect(readFileSync(join(base, 'etc/passwd'), 'utf8')).toContain('root');
    expect(lstatSync(join(base, 'bin/libx-link')).ino).toBe(lstatSync(join(base, 'usr/lib/libx.so')).ino);
    expect(readlinkSync(join(base, 'bin/sh'))).toBe('tool');
    expect(lstatSync(join(base, 'bin/tool')).mode & 0o7777).toBe(0o4755);
    expect(lstatSync(join(base, 'home/user')).mode & 0o7777).toBe(0o700);
    expect(lstatSync(join(base, 'etc/passwd')).mtime.toISOString()).toBe('2024-01-02T03:04:05.000Z');
    expect(lstatSync(join(base, 'etc')).mtime.toISOString()).toBe('2024-01-02T03:04:05.000Z');
  });

  it('makes whiteouts, opaque dirs, devices, FIFOs, owners and xattrs through the syscalls', async () => {
    const layers = await sampleLayers();
    const [img] = (await t.store.importImage(Readable.from(await dockerSave([{ layers, tags: ['s'] }])))).images;
    const mid = join(t.root, 'layers', img!.layers[1]!, 'diff');
    // Layers are built under temporary names; compare paths inside the layer.
    const rel = (p: string): string => p.replace(/^.*\/layers\/\.tmp-[0-9a-f]+\/diff\/?/, '');
    const mknods = t.rec.callsOf('mknodat').map(([fd, p, mode, dev]) => [fd, rel(p), mode, dev]);
    expect(mknods).toContainEqual([-100, 'dev/null', S_IFCHR | 0o666, makedev(1, 3)]);
    expect(mknods).toContainEqual([-100, 'run/fifo', S_IFIFO | 0o600, 0]);
    expect(mknods).toContainEqual([-100, 'etc/passwd', S_IFCHR, 0]);
    const xattrs = t.rec.callsOf('lsetxattr').map(([p, n, v]) => [rel(p), n, Buffer.from(v).toString()]);
    expect(xattrs).toContainEqual(['opt', OVERLAY_OPAQUE_XATTR, 'y']);
    expect(xattrs).toContainEqual(['home/user/notes', 'user.note', 'kept']);
    const chowns = t.rec.callsOf('lchown').map(([p, u, g]) => [rel(p), u, g]);
    expect(chowns).toContainEqual(['home/user/notes', 1000, 1001]);
    expect(chowns).toContainEqual(['home/user', 1000, 1000]);
    // The whiteout marker itself is not a file in the layer.
    expect(readdirSync(join(mid, 'opt'))).toEqual(['new']);
  });

  it('reports progress in archive bytes, ending at the file size', async () => {
    const layers = await sampleLayers();
    const path = join(t.dir, 'save.tar');
    const archive = await dockerSave([{ layers, tags: ['s'] }]);
    writeFileSync(path, archive);
    const events: ImportProgress[] = [];
    await t.store.importImage(path, { onProgress: (p) => events.push(p) });
    expect(events.length).toBeGreaterThan(0);
    expect(events.at(-1)).toEqual({ bytesDone: archive.length, bytesTotal: archive.length });
  });
});

describe('importing an OCI layout tar', () => {
  it('imports ./-prefixed gzip layouts and shares layers with an image already stored', async () => {
    const layers = await sampleLayers();
    await t.store.importImage(Readable.from(await dockerSave([{ layers, tags: ['s'] }])));
    const before = readdirSync(join(t.root, 'layers')).length;
    const extra = await tarOf([{ name: 'extra', body: 'x' }]);
    const path = join(t.dir, 'oci.tar');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, await ociArchive({ layers: [...layers, extra] }, { refName: 'docker.io/library/oci:2' }));
    const [img] = (await t.store.importImage(path)).images;
    expect(img!.tags).toEqual(['oci:2']);
    expect(img!.layers.slice(0, 3)).toEqual(t.store.inspectImage('s').layers);
    expect(readdirSync(join(t.root, 'layers')).length).toBe(before + 1);
  });

  it('imports uncompressed layers and takes the tag argument when ref.name is only a tag', async () => {
    const layers = await sampleLayers();
    const [img] = (await t.store.importImage(Readable.from(await ociArchive({ layers }, { gzip: false, refName: 'latest' })), { tag: 'umoci-made' })).images;
    expect(img!.tags).toEqual(['umoci-made:latest']);
  });
});

describe('importing a plain rootfs tar', () => {
  it('accepts a tar that ends right after the last file data, as umoci 0.4 insert writes them', async () => {
    const full = await tarOf([{ name: 'bin/', type: 'directory' }, { name: 'bin/f', body: 'x\n' }]);
    const cut = full.subarray(0, 512 * 3 + 2);
    const [img] = (await t.store.importImage(Readable.from(cut), { tag: 'umoci-style' })).images;
    expect(img!.layers).toEqual([sha(cut)]);
    expect(readFileSync(join(t.root, 'layers', sha(cut), 'diff/bin/f'), 'utf8')).toBe('x\n');
  });

  it('names it with the tag argument, or leaves it untagged', async () => {
    const rootfs = await tarOf([{ name: './', type: 'directory' }, { name: './bin/busybox', body: 'bb', mode: 0o755 }]);
    const [tagged] = (await t.store.importImage(Readable.from(rootfs), { tag: 'rootfs' })).images;
    expect(tagged!.tags).toEqual(['rootfs:latest']);
    expect(tagged!.layers).toEqual([sha(rootfs)]);
    expect(readFileSync(join(t.root, 'layers', sha(rootfs), 'diff/bin/busybox'), 'utf8')).toBe('bb');
    const other = await tarOf([{ name: 'x', body: '1' }]);
    const [untagged] = (await t.store.importImage(Readable.from(other))).images;
    expect(untagged!.tags).toEqual([]);
    expect(t.store.listImages()).toHaveLength(2);
  });
});

describe('a name written twice in one layer', () => {
  it('keeps the last entry: a file over a file, over a symlink (never followed) and over a directory', async () => {
    const outside = join(t.dir, 'outside');
    writeFileSync(outside, 'untouched');
    const layer = await tarOf([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/motd', body: 'first' },
      { name: 'etc/motd', body: 'second' },
      { name: 'etc/link', type: 'symlink', linkname: outside },
      { name: 'etc/link', body: 'a file now' },
      { name: 'etc/dir/', type: 'directory' },
      { name: 'etc/dir/inner', body: 'gone' },
      { name: 'etc/dir', body: 'was a directory' },
    ]);
    const [img] = (await t.store.importImage(Readable.from(await dockerSave([{ layers: [layer], tags: ['twice'] }])))).images;
    const base = join(t.root, 'layers', img!.layers[0]!, 'diff');
    expect(readFileSync(join(base, 'etc/motd'), 'utf8')).toBe('second');
    expect(lstatSync(join(base, 'etc/link')).isFile()).toBe(true);
    expect(readFileSync(join(base, 'etc/link'), 'utf8')).toBe('a file now');
    expect(readFileSync(outside, 'utf8')).toBe('untouched');
    expect(readFileSync(join(base, 'etc/dir'), 'utf8')).toBe('was a directory');
  });
});
