// Runs inside its own mount namespace (unshare -m --propagation unchanged, started by
// host-mounts.test.ts), which plays the host with its `/` private or shared (argv[2]):
// it opens a runtime (and berth's own namespace), THEN mounts a tmpfs under a directory,
// and runs containers that bind that directory's parent. Prints one JSON line.
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LinuxSyscalls, PrivateMountNamespace, MS_PRIVATE, MS_REC, MS_SHARED } from '@berth/syscall';
import { LayerStore } from '@berth/layers';
import { VolumeStore } from '@berth/volumes';
import { Runtime, parseCreateBody } from '@berth/runtime';
import { writeBusyboxImage } from '../../../../../tools/busybox-image.mjs';

const propagation = process.argv[2];
const sys = new LinuxSyscalls();
// Nothing done here may reach the real host: cut this namespace off first, then play a host.
sys.mount(null, '/', null, MS_REC | MS_PRIVATE, null);
if (propagation === 'shared') sys.mount(null, '/', null, MS_REC | MS_SHARED, null);
const base = mkdtempSync(join(tmpdir(), 'berth-hostmnt-'));
const srv = join(base, 'srv');
mkdirSync(join(srv, 'data'), { recursive: true });
mkdirSync(join(srv, 'data-ro'), { recursive: true });

const root = join(base, 'root');
const ns = PrivateMountNamespace.create(sys);
const layers = LayerStore.open(root, { syscalls: sys });
await writeBusyboxImage(join(base, 'bb.tar'));
await layers.importImage(join(base, 'bb.tar'));
const volumes = VolumeStore.open(root, { syscalls: sys, mountNamespace: ns });
const runtime = await Runtime.open({ root, layers, volumes, syscalls: sys, mountNamespace: ns, workers: 1 });

async function run(cmd, hostConfig) {
  const id = randomBytes(32).toString('hex');
  const out = join(base, `${id}.out`);
  const fd = openSync(out, 'w');
  try {
    const spec = runtime.create(parseCreateBody({ Image: 'busybox', Cmd: ['sh', '-c', cmd], HostConfig: hostConfig }), { id });
    const started = await runtime.start({ id, spec, stdio: { stdout: fd, stderr: fd }, statusPath: join(base, `${id}.status`) });
    const status = await started.exited;
    await runtime.cleanup(id, { removeAnonymousVolumes: true });
    return { exitCode: status.exitCode, output: readFileSync(out, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

const result = {};
try {
  // Mounts the "host" makes after berth's namespace exists.
  sys.mount('tmpfs', join(srv, 'data'), 'tmpfs', 0, 'size=1m');
  writeFileSync(join(srv, 'data', 'f'), 'made-later\n');
  sys.mount('tmpfs', join(srv, 'data-ro'), 'tmpfs', 0, 'size=1m');
  result.bind = await run('cat /srv/data/f; grep " /srv/data " /proc/mounts | cut -d" " -f3', { Binds: [`${srv}:/srv`] });
  // :ro is recursive: the later submount is read-only too.
  result.readOnly = await run('touch /srv/data-ro/x 2>&1 | grep -o "Read-only file system"; touch /srv/x 2>&1 | grep -o "Read-only file system"', { Binds: [`${srv}:/srv:ro`] });
  // A copy of a shared host mount would be its peer: a private bind is made private, submounts too.
  result.propagation = await run('grep -E " /srv(/data)? " /proc/self/mountinfo | grep -c shared:', { Binds: [`${srv}:/srv`] });
  // rslave (refused by Docker's check where / is private): the later submount arrives as a slave of the host's.
  if (propagation === 'shared') result.rslave = await run('grep " /srv/data " /proc/self/mountinfo | grep -o master: ', { Binds: [`${srv}:/srv:rslave`] });
  // Volumes still come from berth's namespace (a tmpfs-backed volume lives only there).
  result.volume = await run('echo v > /v/f && cat /v/f && grep " /v " /proc/mounts | cut -d" " -f3', {
    Mounts: [{ Type: 'volume', Source: 'tv', Target: '/v', VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } } } }],
  });
} finally {
  await runtime.close();
  volumes.close();
  layers.close();
  ns.close();
  for (const dir of ['data', 'data-ro']) execFileSync('umount', ['-R', join(srv, dir)]);
  rmSync(base, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result));
