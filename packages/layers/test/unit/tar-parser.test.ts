/**
 * berth's TarParser frames tar streams itself (so a chunk is never copied
 * and its buffer can be read into again); headers are decoded by
 * tar-stream's own module. This checks it gives exactly what tar-stream's
 * extract gives, for tars GNU tar writes in each format (long names and
 * link names, PAX records, hardlinks, symlinks, empty files, files of odd
 * sizes) and for tar-stream's own, fed in chunk sizes that cut headers,
 * PAX records and padding anywhere.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, linkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tar from 'tar-stream';
import { TarParser } from '../../src/tar-parser.js';
import { dockerSave, sampleLayers, sha } from '../fixtures.js';
import { tempStore } from './helpers.js';

interface Seen { header: Record<string, unknown>; digest: string; bytes: number }

function summary(h: tar.Headers): Record<string, unknown> {
  return {
    name: h.name, type: h.type, size: h.size, mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime?.getTime(),
    linkname: h.linkname, devmajor: h.devmajor, devminor: h.devminor, pax: h.pax ?? null,
  };
}

async function withTarStream(bytes: Buffer): Promise<Seen[]> {
  const out: Seen[] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const hash = createHash('sha256');
      let n = 0;
      for await (const c of entry as AsyncIterable<Buffer>) { hash.update(c); n += c.length; }
      out.push({ header: summary(entry.header), digest: hash.digest('hex'), bytes: n });
    }
  })();
  Readable.from([bytes]).pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

function withParser(bytes: Buffer, chunk: number): Seen[] {
  const out: Seen[] = [];
  const parser = new TarParser((h) => {
    const hash = createHash('sha256');
    let n = 0;
    return {
      data: (c) => { hash.update(c); n += c.length; },
      end: () => { out.push({ header: summary(h), digest: hash.digest('hex'), bytes: n }); },
    };
  });
  for (let off = 0; off < bytes.length; off += chunk) {
    // A fresh copy each time, overwritten after the call: the parser must keep nothing of a chunk.
    const c = Buffer.from(bytes.subarray(off, off + chunk));
    parser.write(c);
    c.fill(0xaa);
  }
  parser.end();
  return out;
}

let dir: string;
const tars: [string, Buffer][] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-tarparser-'));
  const src = join(dir, 'src');
  // Over 100 characters in all, each component under 100: ustar puts it in its prefix field, GNU in a long-name record, PAX in `path`.
  const long = 'a-directory-name-of-sixty-characters-for-the-prefix-field-xx/and-a-second-one-that-takes-the-whole-over-one-hundred';
  mkdirSync(join(src, long, 'deeper'), { recursive: true });
  writeFileSync(join(src, long, 'deeper', `file-${'x'.repeat(80)}.txt`), 'long name\n');
  writeFileSync(join(src, 'empty'), '');
  writeFileSync(join(src, 'odd'), Buffer.alloc(513, 7));
  writeFileSync(join(src, 'block'), Buffer.alloc(512, 8));
  writeFileSync(join(src, 'big'), Buffer.alloc(300_000, 9));
  symlinkSync(`${long}/deeper/${'y'.repeat(150)}`, join(src, 'long-symlink'));
  linkSync(join(src, 'odd'), join(src, 'odd-hardlink'));
  for (const format of ['gnu', 'oldgnu', 'pax', 'posix', 'ustar']) {
    const file = join(dir, `${format}.tar`);
    // ustar cannot hold the 150-character link target: that format gets the tree without it.
    const args = ['--format', format, '-cf', file, '-C', src, '--sort=name', '--mtime=@1700000000', ...(format === 'ustar' ? ['--exclude=long-symlink'] : []), '.'];
    execFileSync('tar', args);
    tars.push([format, readFileSync(file)]);
  }
  for (const [i, layer] of (await sampleLayers()).entries()) tars.push([`tar-stream sample layer ${i}`, layer]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TarParser against tar-stream', () => {
  it('gives the same entries, headers and contents for every format and any chunking', async () => {
    expect(tars.length).toBeGreaterThan(5);
    for (const [name, bytes] of tars) {
      const expected = await withTarStream(bytes);
      expect(expected.length, name).toBeGreaterThan(0);
      for (const chunk of [1, 7, 100, 511, 512, 513, 4096, 65536, bytes.length]) {
        expect(withParser(bytes, chunk), `${name} in chunks of ${chunk}`).toEqual(expected);
      }
    }
  });

  it('refuses a cut inside an entry and a corrupt header, as tar-stream does', async () => {
    const [, gnu] = tars[0]!;
    const cut = gnu.subarray(0, gnu.indexOf(Buffer.alloc(300_000, 9).subarray(0, 1024)) + 1000);
    expect(() => withParser(cut, 4096)).toThrow('Unexpected end of data');
    const corrupt = Buffer.from(gnu);
    corrupt[600] = (corrupt[600]! + 1) % 256; // inside the second header's name: its checksum no longer matches
    await expect(withTarStream(corrupt)).rejects.toThrow('Invalid tar header');
    expect(() => withParser(corrupt, 4096)).toThrow('Invalid tar header');
  });
});

describe('the tar-split record, written as TarParser frames the tar', () => {
  it('gives back each layer tar byte for byte: GNU tar in every format, tar-stream layers, and a tar cut inside its end blocks', async () => {
    const t = tempStore();
    try {
      const [, pax] = tars.find(([name]) => name === 'pax')!;
      // Ends inside the end-of-archive blocks: tar-stream ignores a partial block, and so does the record, verbatim.
      const cut = pax.subarray(0, pax.length - 700);
      for (const [name, layer] of [...tars, ['pax cut in its end blocks', cut] as [string, Buffer]]) {
        const [img] = (await t.store.importImage(Readable.from(await dockerSave([{ layers: [layer], tags: [`t:${sha(layer).slice(0, 8)}`] }])))).images;
        const rebuilt = await t.store.rebuiltLayerTar(img!.layers[0]!, `sha256:${sha(layer)}`);
        expect(rebuilt, name).toBeDefined();
        expect(readFileSync(rebuilt!).equals(layer), name).toBe(true);
        rmSync(rebuilt!);
      }
    } finally {
      await t.cleanup();
    }
  });
});
