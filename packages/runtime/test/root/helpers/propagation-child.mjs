// Runs inside its own mount namespace (unshare -m --propagation unchanged, started by
// propagation.test.ts), which plays the host: it makes a shared mount, starts a container
// with an rslave bind of it, then mounts something new under it while the container runs.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LinuxSyscalls, PrivateMountNamespace, MS_PRIVATE, MS_REC, MS_SHARED } from '@berth/syscall';
import { LayerStore } from '@berth/layers';
import { VolumeStore } from '@berth/volumes';
import { Runtime, parseCreateBody } from '@berth/runtime';
import { writeBusyboxImage } from '../../../../../tools/busybox-image.mjs';

const sys = new LinuxSyscalls();
// Nothing done here may reach the real host: cut this namespace off first.
sys.mount(null, '/', null, MS_REC | MS_PRIVATE, null);
const base = mkdtempSync(join(tmpdir(), 'berth-prop-'));
const shared = join(base, 'shared');
mkdirSync(join(shared), { recursive: true });
sys.mount('tmpfs', shared, 'tmpfs', 0, 'size=1m');
sys.mount(null, shared, null, MS_SHARED, null);
mkdirSync(join(shared, 'later'));

const root = join(base, 'root');
const ns = PrivateMountNamespace.create(sys);
const layers = LayerStore.open(root, { syscalls: sys });
await writeBusyboxImage(join(base, 'bb.tar'));
await layers.importImage(join(base, 'bb.tar'));
const volumes = VolumeStore.open(root, { syscalls: sys, mountNamespace: ns });
const runtime = await Runtime.open({ root, layers, volumes, syscalls: sys, mountNamespace: ns, workers: 1 });
const out = join(base, 'out');
const result = {};
try {
  const id = randomBytes(32).toString('hex');
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(out, 'w');
  const spec = runtime.create(parseCreateBody({
    Image: 'busybox', HostConfig: { Binds: [`${shared}:/s:rslave`] },
    Cmd: ['sh', '-c', 'i=0; while [ ! -f /s/later/mark ] && [ $i -lt 100 ]; do usleep 20000; i=$((i+1)); done; cat /s/later/mark 2>&1; grep " /s/later " /proc/mounts | cut -d" " -f3'],
  }), { id });
  const started = await runtime.start({
    id, spec,
    stdio: { stdout: fd, stderr: fd }, statusPath: join(base, 'status'),
  });
  closeSync(fd);
  // A mount made on the "host" after the container started.
  sys.mount('tmpfs', join(shared, 'later'), 'tmpfs', 0, 'size=1m');
  writeFileSync(join(shared, 'later', 'mark'), 'propagated\n');
  result.status = (await started.exited).exitCode;
  result.output = readFileSync(out, 'utf8');
  await runtime.cleanup(id, { removeAnonymousVolumes: true });
} finally {
  await runtime.close();
  volumes.close();
  layers.close();
  ns.close();
  execFileSync('umount', ['-R', shared]);
  rmSync(base, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result));
