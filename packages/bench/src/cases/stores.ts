/** Cases 4 and 5: volume store scaling and image import throughput against tar -x. */
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { LinuxSyscalls } from '@berth/syscall';
import { LayerStore } from '@berth/layers';
import { VolumeStore } from '@berth/volumes';
import { BenchError } from '../errors.js';
import type { ImportRow, TimedStep } from '../report-types.js';
import { Spawner } from '../spawner.js';
import { median } from '../stats.js';

function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export async function runVolumeScaling(dir: string): Promise<TimedStep[]> {
  const root = join(dir, 'volumes-root');
  mkdirSync(root);
  const store = VolumeStore.open(root, { syscalls: new LinuxSyscalls() });
  try {
    const steps: TimedStep[] = [];
    steps.push({ name: 'create 1,000 volumes', ms: timed(() => { for (let i = 0; i < 1000; i++) store.create({ name: `vol-${i}` }); }) });
    steps.push({ name: 'list 1,000', ms: median(Array.from({ length: 9 }, () => timed(() => store.list()))), note: 'median of 9' });
    steps.push({ name: 'create 9,000 more', ms: timed(() => { for (let i = 1000; i < 10_000; i++) store.create(i % 2 ? { name: `vol-${i}` } : {}); }), note: 'half anonymous' });
    steps.push({ name: 'list 10,000', ms: median(Array.from({ length: 9 }, () => timed(() => store.list()))), note: 'median of 9' });
    let removed = 0;
    const t0 = performance.now();
    steps.push({ name: 'prune --all of 10,000 unused', ms: timed(() => { removed = store.prune({ all: true }).VolumesDeleted.length; }), note: 'until the call returns' });
    if (removed !== 10_000) throw new BenchError('PruneCount', `failed to prune the bench volumes: removed ${removed} of 10,000`);
    const failures = await store.trashSettled();
    steps.push({ name: 'prune, until the trash is empty', ms: performance.now() - t0, note: 'the directories deleted on a worker thread' });
    if (failures.length > 0) throw new BenchError('PruneCount', `failed to empty the volume trash: ${failures[0]!.message}`);
    return steps;
  } finally {
    store.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A docker-save archive with `layers` layers of ~`mbPerLayer` MB of incompressible files each. */
export async function writeSyntheticImage(path: string, layers: number, mbPerLayer: number): Promise<void> {
  const mtime = new Date(0);
  const layerTars: Buffer[] = [];
  for (let l = 0; l < layers; l++) {
    const pack = tar.pack();
    pack.entry({ name: `data${l}/`, type: 'directory', mode: 0o755, mtime });
    const files = mbPerLayer * 8; // 128 KiB each
    for (let f = 0; f < files; f++) {
      pack.entry({ name: `data${l}/sub${f % 16}/file-${f}.bin`, mode: 0o644, mtime }, randomBytes(128 * 1024));
    }
    pack.finalize();
    layerTars.push(await collect(pack));
  }
  const diffIds = layerTars.map((t) => `sha256:${createHash('sha256').update(t).digest('hex')}`);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/true'] }, rootfs: { type: 'layers', diff_ids: diffIds },
  }));
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const outer = tar.pack();
  outer.entry({ name: configName }, config);
  layerTars.forEach((t, i) => outer.entry({ name: `${diffIds[i]!.slice(7)}/layer.tar` }, t));
  outer.entry({ name: 'manifest.json' }, JSON.stringify([{
    Config: configName, RepoTags: ['synthetic:latest'], Layers: diffIds.map((d) => `${d.slice(7)}/layer.tar`),
  }]));
  outer.finalize();
  await pipeline(outer, createWriteStream(path));
}

function tarExtract(archive: string, into: string): void {
  mkdirSync(into, { recursive: true });
  const r = spawnSync('tar', ['-xf', archive, '-C', into], { encoding: 'utf8' });
  if (r.status !== 0) throw new BenchError('Tar', `failed to extract ${archive} with tar: ${r.stderr.trim()}`);
}

/** `sync -f DIR`: writes back the filesystem holding DIR. */
export function syncFs(dir: string): void {
  const r = spawnSync('sync', ['-f', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new BenchError('Sync', `failed to sync ${dir}: ${r.stderr.trim()}`);
}


/** The layer tars of a docker-save archive, unpacked to `dir`. */
export function layerTarsOf(archive: string, dir: string): string[] {
  tarExtract(archive, dir);
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name, 'layer.tar'));
}

/**
 * berth's import (read the archive, verify digests, unpack each layer into
 * the store, record metadata) against `tar -x` of the same layer tars into
 * a temp dir, each followed by `sync -f`. Both rates use the archive's size.
 */
export async function runImport(dir: string, image: string, archive: string, repeats: number): Promise<ImportRow> {
  const bytes = statSync(archive).size;
  const layerTars = layerTarsOf(archive, join(dir, `layers-of-${image}`));
  const berth: number[] = [];
  const tarMs: number[] = [];
  // Started before the warm-up: starting it forks this process too, and the warm-up pays for that.
  const sh = Spawner.start();
  try {
    // Untimed, as the latency case's warm-up: the first import of a process
    // also pays for loading the modules, and for tar the first read of its input.
    const warmRoot = join(dir, `import-${image}-warm`);
    mkdirSync(warmRoot);
    const warmStore = LayerStore.open(warmRoot, { syscalls: new LinuxSyscalls(), unpackInWorker: true });
    await warmStore.importImage(archive);
    warmStore.close();
    rmSync(warmRoot, { recursive: true, force: true });
    const warmInto = join(dir, `tar-${image}-warm`);
    for (const [n, t] of layerTars.entries()) {
      mkdirSync(join(warmInto, String(n)), { recursive: true });
      await sh.run(['tar', '-xf', t, '-C', join(warmInto, String(n))], `extract ${t} with tar`);
    }
    rmSync(warmInto, { recursive: true, force: true });
    const importBerth = async (i: number): Promise<void> => {
      const root = join(dir, `import-${image}-${i}`);
      mkdirSync(root);
      // As the supervisor runs it: unpacked on a worker thread.
      const store = LayerStore.open(root, { syscalls: new LinuxSyscalls(), unpackInWorker: true });
      const t0 = performance.now();
      await store.importImage(archive);
      // Both sides pay for getting the files to disk: berth promises no more than tar does.
      await sh.run(['sync', '-f', root], `sync ${root}`);
      berth.push(performance.now() - t0);
      store.close();
      rmSync(root, { recursive: true, force: true });
    };
    const extractWithTar = async (i: number): Promise<void> => {
      const into = join(dir, `tar-${image}-${i}`);
      layerTars.forEach((_, n) => mkdirSync(join(into, String(n)), { recursive: true }));
      const t1 = performance.now();
      for (const [n, t] of layerTars.entries()) await sh.run(['tar', '-xf', t, '-C', join(into, String(n))], `extract ${t} with tar`);
      await sh.run(['sync', '-f', into], `sync ${into}`);
      tarMs.push(performance.now() - t1);
      rmSync(into, { recursive: true, force: true });
    };
    // The order alternates: on this ext4 either side's extraction time is
    // bimodal (a small image: 62-73 or 93-116 ms for tar alone, whatever ran
    // before), so a few repeats in a fixed order measure the mode, not the
    // import. The medians of many interleaved repeats do not.
    for (let i = 0; i < repeats; i++) {
      if (i % 2 === 0) { await importBerth(i); await extractWithTar(i); } else { await extractWithTar(i); await importBerth(i); }
    }
  } finally {
    sh.close();
  }
  const berthMs = median(berth);
  const tMs = median(tarMs);
  const mb = bytes / 1e6;
  return {
    image, bytes, berthMs, tarMs: tMs, berthMBps: mb / (berthMs / 1000), tarMBps: mb / (tMs / 1000),
    repeats, berthRangeMs: [Math.min(...berth), Math.max(...berth)], tarRangeMs: [Math.min(...tarMs), Math.max(...tarMs)],
  };
}
