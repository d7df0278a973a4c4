// Child process of the trash tests: opens the store at ROOT and prunes every
// unused volume. With `kill-after`, it SIGKILLs itself the moment prune
// returns, leaving its committed trash batch for the next open to empty.
import { LinuxSyscalls } from '@berth/syscall';
import { VolumeStore } from '../../dist/index.js';

const [root, mode] = process.argv.slice(2);
const store = VolumeStore.open(root, { syscalls: new LinuxSyscalls() });
process.stdout.write('opened\n');
const report = store.prune({ all: true });
if (mode === 'kill-after') process.kill(process.pid, 'SIGKILL');
await store.trashSettled();
store.close();
process.stdout.write(`${JSON.stringify({ deleted: report.VolumesDeleted.length })}\n`);
