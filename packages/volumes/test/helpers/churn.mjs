// Creates, acquires, releases and removes volumes in a loop against a shared
// root, for the two-process consistency test. Uses the built package (dist).
import { LinuxSyscalls } from '@berth/syscall';
import { VolumeStore, isVolumeError } from '../../dist/index.js';

const [root, id, iterations] = process.argv.slice(2);
const store = VolumeStore.open(root, { syscalls: new LinuxSyscalls() });
let ops = 0;
for (let i = 0; i < Number(iterations); i++) {
  const name = `v${(i * 7 + Number(id)) % 12}`;
  try {
    switch (i % 5) {
      case 0: store.create({ name, labels: { by: id } }); break;
      case 1: store.acquire(name, `c-${id}`); break;
      case 2: store.release(name, `c-${id}`); break;
      case 3: store.remove(name); break;
      case 4: store.remove(store.create().Name); break;
    }
    ops++;
  } catch (error) {
    if (isVolumeError(error, 'NotFound') || isVolumeError(error, 'InUse')) continue;
    console.error(`worker ${id} op ${i}: ${error.stack}`);
    process.exit(1);
  }
}
store.releaseAll(`c-${id}`);
store.close();
console.log(JSON.stringify({ id, ops }));
