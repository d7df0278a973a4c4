// Property-based fuzzing of the mount parsers (issue 8, section 3): every
// input yields mount specs or a MountSpecError, never another exception,
// and accepted specs keep the invariants the executor relies on.
import fc from 'fast-check';
import { InvalidVolumeNameError, validateVolumeName } from '@berth/volumes';
import { describe, expect, it } from 'vitest';
import { MountSpecError } from '../../src/errors.js';
import { cliToApiFields, parseBind, resolveMounts, type CliMountFlags, type MountSpec } from '../../src/spec/index.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20250601);
let total = 0;

/** Runs `fn`; passes when it returns or throws a MountSpecError, fails on anything else. */
function specsOrTypedError(fn: () => MountSpec[]): boolean {
  let specs: MountSpec[];
  try {
    specs = fn();
  } catch (error) {
    if (error instanceof MountSpecError) return true;
    throw error;
  }
  const seen = new Set<string>();
  let lastDepth = 0;
  for (const s of specs) {
    // What the executor relies on: absolute, clean, unique, parents first.
    expect(s.destination.startsWith('/')).toBe(true);
    expect(s.destination).not.toBe('/');
    expect(s.destination.split('/').some((p) => p === '.' || p === '..')).toBe(false);
    expect(seen.has(s.destination)).toBe(false);
    seen.add(s.destination);
    const depth = s.destination.split('/').length;
    expect(depth).toBeGreaterThanOrEqual(lastDepth);
    lastDepth = depth;
    if (s.type === 'bind') expect(s.source.startsWith('/')).toBe(true);
    if (s.subpath !== undefined) expect(s.subpath.startsWith('/') || s.subpath.split('/').includes('..')).toBe(false);
  }
  return true;
}

function check<T>(arb: fc.Arbitrary<T>, numRuns: number, predicate: (value: T) => boolean): void {
  fc.assert(fc.property(arb, predicate), { numRuns, seed: SEED });
  total += numRuns;
}

/** Strings made mostly of the characters the parsers care about. */
const piece = fc.oneof(
  fc.constantFrom(':', '/', ',', '.', '..', '=', '"', ' ', '\n', 'a', 'vol', '/data', '/h', 'c', 'ro', 'rw', 'z', 'Z',
    'shared', 'rslave', 'private', 'nocopy', 'cached', '~', '\\\\', 'é', '\u0000'),
  fc.string({ maxLength: 4 }),
);
const messy = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));

const mountKeys = ['type', 'source', 'src', 'target', 'dst', 'destination', 'readonly', 'ro', 'consistency', 'bind-propagation',
  'bind-recursive', 'bind-create-src', 'bind-nonrecursive', 'volume-subpath', 'volume-nocopy', 'volume-label', 'volume-driver',
  'volume-opt', 'image-subpath', 'tmpfs-size', 'tmpfs-mode', 'TYPE', 'Src', 'bogus', ''];
const mountValues = fc.oneof(
  fc.constantFrom('bind', 'volume', 'tmpfs', 'image', 'npipe', '/d', '/d/e', '/', 'rel', './x', '../y', 'v1', 'true', 'false',
    '1', '0', 'yes', 'enabled', 'disabled', 'writable', 'readonly', 'rshared', 'RPRIVATE', 'bad', '1k', '1.5m', '2GiB', '-1',
    '0755', '1777', '99', 'a/b', '../x', '/abs', 'k=v', '', ' x', 'x '),
  messy,
);
const mountField = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...mountKeys), mountValues).map(([k, v]) => `${k}=${v}`) },
  { weight: 1, arbitrary: fc.constantFrom(...mountKeys) },
  { weight: 1, arbitrary: messy },
);
const mountFlag = fc.array(mountField, { minLength: 0, maxLength: 7 }).map((f) => f.join(','));

const tmpfsFlag = fc.oneof(
  fc.tuple(fc.constantFrom('/t', '/run', '/', 'rel', '', '/a/../b'), fc.array(fc.oneof(
    fc.constantFrom('size=64k', 'mode=1777', 'uid=0', 'ro', 'rw', 'exec', 'noexec', 'shared', 'defaults', 'bogus', '', 'size', 'nr_inodes=5'),
    messy,
  ), { maxLength: 5 })).map(([d, o]) => (o.length === 0 ? d : `${d}:${o.join(',')}`)),
  messy,
);

const resolveCli = (flags: CliMountFlags) => () => resolveMounts(cliToApiFields(flags, { cwd: '/w' }), { imageVolumes: ['/data', '/t'] });

describe('fuzzing the mount parsers', () => {
  it('-v: CLI then daemon', () => {
    check(fc.array(messy, { minLength: 1, maxLength: 3 }), 30_000, (volume) => specsOrTypedError(resolveCli({ volume })));
  });

  it('HostConfig.Binds straight to the daemon', () => {
    check(messy, 15_000, (raw) => specsOrTypedError(() => [parseBind(raw)]));
  });

  it('--mount: structured key=value fields', () => {
    check(fc.array(mountFlag, { minLength: 1, maxLength: 2 }), 25_000, (mount) => specsOrTypedError(resolveCli({ mount })));
  });

  it('--mount: arbitrary strings', () => {
    check(fc.string({ maxLength: 60 }), 10_000, (m) => specsOrTypedError(resolveCli({ mount: [m] })));
  });

  it('--tmpfs', () => {
    check(fc.array(tmpfsFlag, { minLength: 1, maxLength: 3 }), 15_000, (tmpfs) => specsOrTypedError(resolveCli({ tmpfs })));
  });

  it('API bodies of any JSON shape', () => {
    const mountObject = fc.record({
      Type: fc.oneof(fc.constantFrom('bind', 'volume', 'tmpfs', 'image', 'x'), fc.anything()),
      Source: fc.oneof(fc.constantFrom('/h', 'v', '', 'rel'), fc.anything()),
      Target: fc.oneof(fc.constantFrom('/d', '/', 'rel', ''), fc.anything()),
      ReadOnly: fc.oneof(fc.boolean(), fc.anything()),
      BindOptions: fc.anything(),
      VolumeOptions: fc.oneof(fc.record({ Subpath: fc.oneof(messy, fc.anything()), NoCopy: fc.anything() }), fc.anything()),
      TmpfsOptions: fc.oneof(fc.record({ SizeBytes: fc.anything(), Mode: fc.integer(), Options: fc.anything() }), fc.anything()),
    }, { requiredKeys: [] });
    const body = fc.record({
      Config: fc.oneof(fc.record({ Volumes: fc.oneof(fc.dictionary(messy, fc.constant({})), fc.anything()) }), fc.anything()),
      HostConfig: fc.oneof(fc.record({
        Binds: fc.oneof(fc.array(messy, { maxLength: 3 }), fc.anything()),
        Mounts: fc.oneof(fc.array(mountObject, { maxLength: 3 }), fc.anything()),
        Tmpfs: fc.oneof(fc.dictionary(messy, messy, { maxKeys: 3 }), fc.anything()),
        VolumesFrom: fc.oneof(fc.array(messy, { maxLength: 2 }), fc.anything()),
      }, { requiredKeys: [] }), fc.anything()),
    }, { requiredKeys: [] });
    check(body, 10_000, (b) => specsOrTypedError(() => resolveMounts(b, { volumesFrom: () => [] })));
  });

  it('volume names (validateVolumeName from @berth/volumes)', () => {
    check(fc.oneof(messy, fc.string({ maxLength: 20 })), 10_000, (name) => {
      try {
        validateVolumeName(name);
      } catch (error) {
        if (error instanceof InvalidVolumeNameError) return true;
        throw error;
      }
      // Accepted names can never reach outside <root>/volumes.
      expect(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)).toBe(true);
      expect(name.includes('/')).toBe(false);
      return true;
    });
  });

  it('ran at least 100,000 cases in total', () => {
    expect(total).toBeGreaterThanOrEqual(100_000);
  });
});
