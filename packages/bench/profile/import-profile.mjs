// How fast is an image import against `tar -x`, and where does it spend its
// time? Not a test, not part of `npm run bench`: run after `npm run build`,
// as root:
//   node packages/bench/profile/import-profile.mjs [--repeats N] [--calling-thread] [--only busybox|synthetic]
//   node packages/bench/profile/import-profile.mjs --against OLD/packages/layers/dist/index.js
//   node --cpu-prof --cpu-prof-dir=/tmp/berth-prof packages/bench/profile/import-profile.mjs --repeats 3
//   node packages/bench/profile/launch-profile.mjs --summarize /tmp/berth-prof
// The first prints, for the bench's synthetic 3-layer image and for busybox,
// berth's import + `sync -f` against `tar -x` of the same layer tars +
// `sync -f`, interleaved, with the median ratio. `--against` adds a second
// build of @berth/layers (another checkout's, built) to each round, the
// order rotated every round, for before/after numbers.
// tar and sync run in one long-lived shell (the bench's `Spawner`), as in the
// bench: forking this process would charge berth's next import a page
// fault per page it writes.
// `--keep DIR` leaves the archives in DIR, for strace.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LinuxSyscalls } from '@berth/syscall';
import { LayerStore } from '@berth/layers';

const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '5' },
    'calling-thread': { type: 'boolean', default: false },
    keep: { type: 'string' },
    only: { type: 'string' },
    against: { type: 'string' },
  },
});
const repeats = Number(values.repeats);
const { writeSyntheticImage, layerTarsOf } = await import('../dist/cases/stores.js');
const { Spawner } = await import('../dist/spawner.js');
const { writeBusyboxImage } = await import('../dist/berth-env.js');
const Other = values.against === undefined ? undefined : (await import(pathToFileURL(resolve(values.against)).href)).LayerStore;

const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'berth-import-prof-'));
mkdirSync(dir, { recursive: true });
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const spread = (xs) => { const s = [...xs].sort((a, b) => a - b); return `${median(xs).toFixed(2)}x (range ${s[0].toFixed(2)}-${s[s.length - 1].toFixed(2)})`; };
const sh = Spawner.start();
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
  for (const [name, archive] of images) {
    const tars = layerTarsOf(archive, join(dir, `layers-${name.split(' ')[0]}`));
    const importWith = (Store, tag) => async (i) => {
      const root = join(dir, `root-${tag}-${i}`);
      mkdirSync(root);
      const store = Store.open(root, { syscalls: new LinuxSyscalls(), unpackInWorker: !values['calling-thread'] });
      const t0 = performance.now();
      await store.importImage(archive);
      await sh.run(['sync', '-f', root], `sync ${root}`);
      const ms = performance.now() - t0;
      store.close();
      rmSync(root, { recursive: true, force: true });
      return ms;
    };
    const tarX = async (i) => {
      const into = join(dir, `tar-${i}`);
      tars.forEach((_, n) => mkdirSync(join(into, String(n)), { recursive: true }));
      const t0 = performance.now();
      for (const [n, t] of tars.entries()) await sh.run(['tar', '-xf', t, '-C', join(into, String(n))], `extract ${t}`);
      await sh.run(['sync', '-f', into], `sync ${into}`);
      const ms = performance.now() - t0;
      rmSync(into, { recursive: true, force: true });
      return ms;
    };
    const sides = [['berth', importWith(LayerStore, 'berth')], ['tar', tarX]];
    if (Other) sides.push(['against', importWith(Other, 'against')]);
    const times = Object.fromEntries(sides.map(([k]) => [k, []]));
    for (let i = -1; i < repeats; i++) {
      const rot = ((i % sides.length) + sides.length) % sides.length;
      for (const [k, run] of [...sides.slice(rot), ...sides.slice(0, rot)]) {
        const ms = await run(i);
        if (i >= 0) times[k].push(ms);
        else if (k !== 'tar') console.log(`${name}: first import in this process (${k}, untimed in the bench) ${ms.toFixed(0)} ms`);
      }
    }
    const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(' ');
    console.log(`${name}: ${sides.map(([k]) => `${k} ${fmt(times[k])} ms`).join('; ')}`);
    for (const [k] of sides.filter(([k]) => k !== 'tar')) {
      const ratios = times[k].map((b, i) => times.tar[i] / b);
      console.log(`  ${k}: median ${median(times[k]).toFixed(0)} ms, tar ${median(times.tar).toFixed(0)} ms, speed ratio (tar time / berth time) ${(median(times.tar) / median(times[k])).toFixed(2)}x, per-round ${spread(ratios)}`);
    }
  }
} finally {
  sh.close();
  if (values.keep === undefined) rmSync(dir, { recursive: true, force: true });
}
