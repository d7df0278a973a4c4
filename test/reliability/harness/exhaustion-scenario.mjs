// Runs inside `unshare -m` (a private mount namespace of its own, so the
// host's mount table never changes): mounts a small tmpfs as a berth root,
// fills it during a volume import and during a container's writes, and
// prints what happened as one JSON line. exhaustion.test.ts asserts on it.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import tar from 'tar-stream';
import { LinuxSyscalls, PrivateMountNamespace } from '@berth/syscall';
import { LayerStore } from '@berth/layers';
import { VolumeStore } from '@berth/volumes';
import { Runtime, parseCreateBody } from '@berth/runtime';
import { writeBusyboxImage } from '../../../tools/busybox-image.mjs';

const [dir, sizeMb] = [process.argv[2], Number(process.argv[3] ?? 16)];
const root = join(dir, 'root');
mkdirSync(root, { recursive: true });
execFileSync('mount', ['--make-rprivate', '/']);
execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0711`, 'berth-enospc', root]);

const out = {};
const message = (e) => (e instanceof Error ? `${e.code ?? ''} ${e.message}` : String(e));
const integrity = (file) => {
  const db = new Database(file, { readonly: true });
  try { return db.pragma('integrity_check', { simple: true }); } finally { db.close(); }
};
const tarWith = async (files) => {
  const pack = tar.pack();
  for (const [name, size] of files) pack.entry({ name, size, mode: 0o644 }, Buffer.alloc(size, 0x61));
  pack.finalize();
  const chunks = [];
  for await (const c of pack) chunks.push(c);
  return Buffer.concat(chunks);
};

const syscalls = new LinuxSyscalls();
const ns = PrivateMountNamespace.create(syscalls);
let layers = LayerStore.open(root, { syscalls });
let volumes = VolumeStore.open(root, { syscalls, mountNamespace: ns });
const image = join(dir, 'busybox.tar');
await writeBusyboxImage(image, { tag: 'busybox:latest' });
await layers.importImage(image);

// 1. A volume import larger than the disk.
const big = await tarWith(Array.from({ length: 6 }, (_, i) => [`f${i}`, sizeMb << 18]));
out.importError = await volumes.importTar('big', Readable.from([big])).then(() => null, message);
// Removed directories go to the trash and are deleted off the request: wait for that.
await volumes.trashSettled();
out.dfAfterImport = execFileSync('df', ['-k', root], { encoding: 'utf8' }).trim().split('\n')[1];
out.afterImport = { volumes: volumes.list().map((v) => v.Name), entries: execFileSync('ls', ['-A', join(root, 'volumes')], { encoding: 'utf8' }).trim().split('\n') };

// 2. A container filling the disk through a named volume.
let runtime = await Runtime.open({ root, layers, volumes, syscalls, mountNamespace: ns, workers: 1 });
const run = async (id, cmd, binds) => {
  const log = join(dir, `${id}.out`);
  const fd = openSync(log, 'w');
  try {
    const spec = runtime.create(parseCreateBody({ Image: 'busybox', Cmd: cmd, HostConfig: { Binds: binds } }), { id });
    const started = await runtime.start({ id, spec, stdio: { stdout: fd, stderr: fd }, statusPath: join(dir, `${id}.status`) });
    const status = await started.exited;
    const result = { exitCode: status.exitCode, output: readFileSync(log, 'utf8') };
    try {
      runtime.cleanup(id, { removeAnonymousVolumes: true });
    } catch (e) {
      result.cleanupError = message(e);
    }
    return result;
  } catch (e) {
    return { error: message(e) };
  } finally {
    closeSync(fd);
  }
};
out.fill = await run('filler', ['sh', '-c', 'dd if=/dev/zero of=/v/fill bs=1M count=64; echo dd-exit=$?'], ['fillvol:/v']);
// While the disk is full: metadata writes fail cleanly or succeed; never corrupt.
out.createWhileFull = (() => { try { volumes.create({ name: 'while-full' }); return 'ok'; } catch (e) { return message(e); } })();
out.runWhileFull = await run('whilefull', ['sh', '-c', 'echo hi > /v/hi'], ['fillvol:/v']);

// 3. Restart while the disk is still full (a supervisor restarting on a full disk).
await runtime.close();
volumes.close();
layers.close();
const tryOpen = () => {
  try {
    volumes = VolumeStore.open(root, { syscalls, mountNamespace: ns });
    layers = LayerStore.open(root, { syscalls });
    return 'ok';
  } catch (e) {
    return message(e);
  }
};
out.reopenWhileFull = tryOpen();
if (out.reopenWhileFull === 'ok') { volumes.close(); layers.close(); }

// 4. Free the space: reopen, the metadata is sound, and everything works again.
rmSync(join(root, 'volumes', 'fillvol', '_data', 'fill'), { force: true });
out.reopenAfterFree = tryOpen();
out.reopened = {
  volumesReport: volumes.openReport,
  layersReport: layers.startupReport,
  integrity: { volumes: integrity(join(root, 'volumes', 'metadata.db')), layers: integrity(join(root, 'metadata.db')) },
};
runtime = await Runtime.open({ root, layers, volumes, syscalls, mountNamespace: ns, workers: 1 });
out.importAfterFree = await volumes.importTar('small', Readable.from([await tarWith([['ok', 1024]])])).then((r) => r.entries, message);
out.createAfterFree = (() => { try { volumes.create({ name: 'after-free' }); return 'ok'; } catch (e) { return message(e); } })();
out.runAfterFree = await run('afterfree', ['sh', '-c', 'echo recovered > /v/ok && cat /v/ok'], ['fillvol:/v']);
await runtime.close();
out.finalReconcile = volumes.reconcile();
out.finalIntegrity = integrity(join(root, 'volumes', 'metadata.db'));
volumes.close();
layers.close();
ns.close();
writeFileSync(1, JSON.stringify(out) + '\n');
