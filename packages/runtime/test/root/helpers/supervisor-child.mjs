// Plays a supervisor that dies (shim.test.ts SIGKILLs it): it opens a runtime on the root given
// as argv[2], starts a container that waits for a file and then exits 42, prints where the
// container's status and output go, and waits to be killed.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { LinuxSyscalls, PrivateMountNamespace } from '@berth/syscall';
import { LayerStore } from '@berth/layers';
import { VolumeStore } from '@berth/volumes';
import { Runtime, parseCreateBody } from '@berth/runtime';
import { writeBusyboxImage } from '../../../../../tools/busybox-image.mjs';

const root = process.argv[2];
const sys = new LinuxSyscalls();
const ns = PrivateMountNamespace.create(sys);
const layers = LayerStore.open(root, { syscalls: sys });
await writeBusyboxImage(join(root, 'bb.tar'));
await layers.importImage(join(root, 'bb.tar'));
const volumes = VolumeStore.open(root, { syscalls: sys, mountNamespace: ns });
const runtime = await Runtime.open({ root, layers, volumes, syscalls: sys, mountNamespace: ns, workers: 1 });
const id = randomBytes(32).toString('hex');
const out = join(root, 'out');
const fd = openSync(out, 'w');
const spec = runtime.create(parseCreateBody({
  Image: 'busybox', HostConfig: { Binds: [`${root}:/host`] },
  Cmd: ['sh', '-c', 'echo before; while [ ! -f /host/go-on ]; do usleep 20000; done; echo after; exit 42'],
}), { id });
const started = await runtime.start({ id, spec, stdio: { stdout: fd, stderr: fd }, statusPath: join(root, 'status') });
closeSync(fd);
process.stdout.write(`${JSON.stringify({ id, pid: started.pid, startTime: started.startTime, shim: started.shim, status: join(root, 'status'), out })}\n`);
setInterval(() => undefined, 1000);
