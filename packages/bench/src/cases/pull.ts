/**
 * Case 7: `pull` of a four-layer image of 64 MB of incompressible files
 * from a local registry (Debian's docker-registry on 127.0.0.1, filled by
 * skopeo): berth's LayerStore.pull against `podman pull` of the same image,
 * each into fresh storage, each followed by `sync -f` — the same work:
 * download, verify, unpack, to disk.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { LinuxSyscalls } from '@berth/syscall';
import { LayerStore } from '@berth/layers';
import { BenchError } from '../errors.js';
import type { PullRow } from '../report-types.js';
import { median } from '../stats.js';
import { syncFs, writeSyntheticImage } from './stores.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function ping(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const r = request(url, (res) => { res.resume(); resolve(res.statusCode === 200); });
    r.on('error', () => resolve(false));
    r.end();
  });
}

export async function runPull(dir: string, o: { repeats: number; log: (line: string) => void }): Promise<PullRow> {
  const work = join(dir, 'pull');
  mkdirSync(work, { recursive: true });
  const port = await freePort();
  writeFileSync(join(work, 'registry.yml'), `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, 'registry')}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const registry = spawn('docker-registry', ['serve', join(work, 'registry.yml')], { stdio: 'ignore' });
  try {
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = await ping(`http://127.0.0.1:${port}/v2/`);
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    if (!up) throw new BenchError('Registry', 'failed to start docker-registry for the pull case');
    const archive = join(work, 'four-layers.tar');
    await writeSyntheticImage(archive, 4, 16);
    const ref = `127.0.0.1:${port}/bench/four-layers:1`;
    const copy = spawnSync('skopeo', ['copy', '-q', `docker-archive:${archive}`, `docker://${ref}`, '--dest-tls-verify=false'], { encoding: 'utf8' });
    if (copy.status !== 0) throw new BenchError('Skopeo', `failed to put the bench image in the registry: ${copy.stderr.trim()}`);
    const podman = spawnSync('podman', ['--version'], { encoding: 'utf8' }).status === 0;
    const berthMs: number[] = [];
    const podmanMs: number[] = [];
    for (let i = 0; i < o.repeats; i++) {
      const root = join(work, `berth-${i}`);
      mkdirSync(root);
      const store = LayerStore.open(root, { syscalls: new LinuxSyscalls(), unpackInWorker: true });
      const t0 = performance.now();
      await store.pull(ref);
      syncFs(root);
      berthMs.push(performance.now() - t0);
      store.close();
      rmSync(root, { recursive: true, force: true });
      if (podman) {
        const proot = join(work, `podman-${i}`);
        mkdirSync(proot);
        const t1 = performance.now();
        const r = spawnSync('podman', ['--root', join(proot, 'root'), '--runroot', join(proot, 'run'), '--storage-driver', 'overlay',
          'pull', '-q', '--tls-verify=false', ref], { encoding: 'utf8' });
        syncFs(proot);
        podmanMs.push(performance.now() - t1);
        if (r.status !== 0) throw new BenchError('Podman', `podman pull failed: ${r.stderr.trim()}`);
        rmSync(proot, { recursive: true, force: true });
      }
      o.log(`pull ${i + 1}/${o.repeats}: berth ${berthMs.at(-1)?.toFixed(0) ?? '?'} ms${podman ? `, podman ${podmanMs.at(-1)?.toFixed(0) ?? '?'} ms` : ''}`);
    }
    return {
      image: '4 layers, 64 MB of incompressible files', berthMs: median(berthMs),
      ...(podman ? { podmanMs: median(podmanMs) } : { podmanMissing: 'podman not installed (npm run bench -- --with-peers installs it)' }),
    };
  } finally {
    if (registry.pid !== undefined && registry.exitCode === null) {
      const gone = new Promise<void>((r) => registry.once('exit', () => r()));
      process.kill(registry.pid, 'SIGTERM');
      await gone;
    }
    rmSync(work, { recursive: true, force: true });
  }
}
