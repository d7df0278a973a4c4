// Root test helper, run inside a private mount namespace of its own
// (`unshare --mount --propagation private`), so that the trash worker thread
// sees the tmpfs this script mounts inside a volume. Removes the volume and
// reports what the emptier did. Uses the built package (dist).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LinuxSyscalls } from '@berth/syscall';
import { VolumeStore } from '../../dist/index.js';

const [base] = process.argv.slice(2);
const sys = new LinuxSyscalls();
const store = VolumeStore.open(base, { syscalls: sys });
const v = store.create({ name: 'bound' });
const m = path.join(v.Mountpoint, 'm');
fs.mkdirSync(m);
sys.mount('tmpfs', m, 'tmpfs', 0, 'size=64k');
fs.writeFileSync(path.join(m, 'on-other-fs'), 'x');
store.remove('bound');
const failures = await store.trashSettled();
const trash = path.join(store.volumesDir, '.trash');
const batches = fs.readdirSync(trash);
const kept = fs.readFileSync(path.join(trash, batches[0], 'bound', '_data', 'm', 'on-other-fs'), 'utf8');
store.close();
process.stdout.write(JSON.stringify({ failures, kept }));
