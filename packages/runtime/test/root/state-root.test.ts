// Private state (issue 13 item 7, the CVE-2021-41091 class): with the old
// 0711 root and a 0755 volumes dir, `nobody` on the host reads a volume's
// files and runs a setuid-root binary a container left there. After
// ensurePrivateStateRoot (root 0710, volumes/ 0701, as dockerd) neither works.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StateRootError } from '../../src/errors.js';
import { describeCorrection, ensurePrivateStateRoot } from '../../src/security/index.js';
import { describeRoot, isRoot } from '@berth/testing';

const NOBODY = { uid: 65534, gid: 65534 };
let base = '';
let root = '';
let secret = '';
let suid = '';

/** As `nobody` (a child process; libuv drops root's supplementary groups): read a file, print its content or the errno. */
function readAsNobody(file: string): string {
  const r = spawnSync(process.execPath, ['-e', `try { process.stdout.write(require('fs').readFileSync(${JSON.stringify(file)}, 'utf8')) } catch (e) { process.stdout.write(e.code) }`], { ...NOBODY, encoding: 'utf8' });
  return r.stdout;
}

/** As `nobody`: run the setuid-root copy of `id -u`; its output, or the spawn's errno. */
function runSetuidAsNobody(): string {
  const r = spawnSync(suid, ['-u'], { ...NOBODY, encoding: 'utf8' });
  return r.error ? String((r.error as NodeJS.ErrnoException).code) : r.stdout.trim();
}

describeRoot('private state root', () => {
  beforeAll(() => {
    // The state root must sit somewhere nobody can traverse to, like /var/lib.
    base = mkdtempSync('/var/tmp/berth-state-');
    chmodSync(base, 0o755);
    root = join(base, 'root');
    mkdirSync(join(root, 'volumes', 'v', '_data'), { recursive: true });
    // berth's old modes: the root 0711, volumes/ and _data world-traversable.
    chmodSync(root, 0o711);
    chmodSync(join(root, 'volumes'), 0o755);
    chmodSync(join(root, 'volumes', 'v'), 0o755);
    secret = join(root, 'volumes', 'v', '_data', 'secret');
    writeFileSync(secret, 'volume data\n', { mode: 0o644 });
    // What a container can leave in a volume: a setuid-root binary.
    suid = join(root, 'volumes', 'v', '_data', 'id');
    copyFileSync('/usr/bin/id', suid);
    chmodSync(suid, 0o4755);
  });
  afterAll(() => {
    if (isRoot && base !== '') rmSync(base, { recursive: true, force: true });
  });

  it('without it, nobody reads volume data and gets euid 0 from a setuid binary in a volume (the attack works here)', () => {
    expect(readAsNobody(secret)).toBe('volume data\n');
    expect(runSetuidAsNobody()).toBe('0');
  });

  it('corrects the root to 0710 and volumes/ to 0701, and says what it changed', () => {
    const corrections = ensurePrivateStateRoot(root);
    expect(corrections).toEqual([
      { path: root, from: 0o711, to: 0o710 },
      { path: join(root, 'volumes'), from: 0o755, to: 0o701 },
    ]);
    expect(describeCorrection(corrections[0]!)).toBe(`berth: ${root} had mode 0711; set it to 0710 so host users cannot reach container and volume data`);
    expect(statSync(root).mode & 0o7777).toBe(0o710);
    expect(ensurePrivateStateRoot(root)).toEqual([]);
  });

  it('then nobody can neither read a volume\'s file nor run a setuid binary left in a volume', () => {
    expect(readAsNobody(secret)).toBe('EACCES');
    expect(runSetuidAsNobody()).toBe('EACCES');
  });

  it('creates a missing root 0710', () => {
    const fresh = join(base, 'fresh');
    expect(ensurePrivateStateRoot(fresh)).toEqual([]);
    expect(statSync(fresh).mode & 0o7777).toBe(0o710);
  });

  it('refuses a root that is a symlink', () => {
    const link = join(base, 'link');
    symlinkSync(root, link);
    expect(() => ensurePrivateStateRoot(link)).toThrow(StateRootError);
  });
});
