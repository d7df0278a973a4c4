// How fast is an image import against `tar -x`, and where does it spend its
// time? Not a test, not part of `npm run bench`: run after `npm run build`,
// as root:
//   node packages/bench/profile/import-profile.mjs [--repeats N] [--calling-thread]
//   node --cpu-prof --cpu-prof-dir=/tmp/berth-prof packages/bench/profile/import-profile.mjs --repeats 3
//   node packages/bench/profile/launch-profile.mjs --summarize /tmp/berth-prof
// The first prints, for the bench's synthetic 3-layer image and for busybox,
// berth's import + `sync -f` against `tar -x` of the same layer tars +
// `sync -f`, interleaved (berth, tar, berth, tar ...), with the median ratio.
// tar and sync run in one long-lived shell (the bench's `Shell`), as in the
// bench: forking this process would charge berth's next import a page
// fault per page it writes.
// `--keep DIR` leaves the archives in DIR, for strace.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LinuxSyscalls } from '@berth/syscall';
import { LayerStore } from '@berth/layers';

const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '5' },
    'calling-thread': { type: 'boolean', default: false },
    keep: { type: 'string' },
    only: { type: 'string' },
  },
});
const repeats = Number(values.repeats);
const { writeSyntheticImage, layerTarsOf, Shell } = await import('../dist/cases/stores.js');
const { writeBusyboxImage } = await import('../dist/berth-env.js');

const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'berth-import-prof-'));
mkdirSync(dir, { recursive: true });
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
try {
  const images = [];
  if (values.only !== 'busybox') {
    const synthetic = join(dir, 'synthetic.tar');
    await writeSyntheticImage(synthetic, 3, 16);
    images.push(['synthetic 3 layers / 48 MB', synthetic]);
  }
  if (values.only !== 'synthetic') {
    const busybox = join(dir, 'busybox.tar');
    await writeBusyboxImage(busybox);
    images.push(['busybox', busybox]);
  }
  const sh = Shell.start();
  for (const [name, archive] of images) {
    const tars = layerTarsOf(archive, join(dir, `layers-${name.split(' ')[0]}`));
    const berth = [];
    const tar = [];
    for (let i = -1; i < repeats; i++) {
      const root = join(dir, `root-${i}`);
      mkdirSync(root);
      const store = LayerStore.open(root, { syscalls: new LinuxSyscalls(), unpackInWorker: !values['calling-thread'] });
      let t0 = performance.now();
      await store.importImage(archive);
      await sh.run(['sync', '-f', root], `sync ${root}`);
      if (i >= 0) berth.push(performance.now() - t0);
      else console.log(`${name}: first import in this process (untimed in the bench) ${(performance.now() - t0).toFixed(0)} ms`);
      store.close();
      rmSync(root, { recursive: true, force: true });
      const into = join(dir, `tar-${i}`);
      tars.forEach((_, n) => mkdirSync(join(into, String(n)), { recursive: true }));
      t0 = performance.now();
      for (const [n, t] of tars.entries()) await sh.run(['tar', '-xf', t, '-C', join(into, String(n))], `extract ${t}`);
      await sh.run(['sync', '-f', into], `sync ${into}`);
      if (i >= 0) tar.push(performance.now() - t0);
      rmSync(into, { recursive: true, force: true });
    }
    const ratios = berth.map((b, i) => tar[i] / b);
    console.log(`${name}: berth ${berth.map((x) => x.toFixed(0)).join(' ')} ms; tar ${tar.map((x) => x.toFixed(0)).join(' ')} ms`);
    console.log(`  median berth ${median(berth).toFixed(0)} ms, tar ${median(tar).toFixed(0)} ms, speed ratio (tar time / berth time) ${(median(tar) / median(berth)).toFixed(2)}x, per-pair median ${median(ratios).toFixed(2)}x`);
  }
  sh.close();
} finally {
  if (values.keep === undefined) rmSync(dir, { recursive: true, force: true });
}
