import { describe, expect, it } from 'vitest';
import { MountSpecError } from '../../src/errors.js';
import {
  cliToApiFields, mergeTmpfsOptions, parseBind, parseMountFlag, parseVolumeFlag, parseVolumesFrom, resolveMounts,
  type CliMountFlags, type MountSpec,
} from '../../src/spec/index.js';

const CWD = '/home/me/proj';

/** The CLI path and the daemon path together, as `docker run` does. */
function run(flags: CliMountFlags, opts: Parameters<typeof resolveMounts>[1] = {}): MountSpec[] {
  return resolveMounts(cliToApiFields(flags, { cwd: CWD }), opts);
}

function errorOf(fn: () => unknown): MountSpecError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MountSpecError);
    return error as MountSpecError;
  }
  throw new Error('expected a MountSpecError');
}

const message = (fn: () => unknown): string => errorOf(fn).message;

describe('-v on the CLI (docker/cli)', () => {
  it('routes named volumes and binds to Binds, anonymous ones to Config.Volumes', () => {
    const api = cliToApiFields({ volume: ['v1:/data', '/h:/h:ro', '/anon', './rel:/r', '~/x:/x'] }, { cwd: CWD });
    expect(api.HostConfig.Binds).toEqual(['v1:/data', '/h:/h:ro', `${CWD}/rel:/r`, '~/x:/x']);
    expect(api.Config.Volumes).toEqual({ '/anon': {} });
  });

  it('makes ../ sources absolute lexically', () => {
    expect(cliToApiFields({ volume: ['../up:/u:ro'] }, { cwd: CWD }).HostConfig.Binds).toEqual(['/home/me/up:/u:ro']);
  });

  it('keeps one mount for the same -v value given twice', () => {
    expect(run({ volume: ['vol:/d', 'vol:/d'] })).toHaveLength(1);
  });

  it.each([
    ['', 'invalid empty volume spec'],
    ['/tmp:', 'invalid spec: /tmp:: empty section between colons'],
    [':/test', 'invalid spec: :/test: empty section between colons'],
    ['/tmp:::', 'invalid spec: /tmp:::: empty section between colons'],
    [':::', 'invalid spec: :::: empty section between colons'],
    ['/a:/b:ro:x', 'invalid spec: /a:/b:ro:x: too many colons'],
  ])('refuses %j with %j', (spec, expected) => {
    const err = errorOf(() => parseVolumeFlag(spec));
    expect(err.message).toBe(expected);
    expect(err.code).toBe('invalid-volume-flag');
  });

  it('treats one or two bytes as a bare target, and a one-letter drive as part of the path', () => {
    expect(parseVolumeFlag(':')).toEqual({ type: 'volume', source: '', target: ':' });
    expect(parseVolumeFlag('c:/data')).toEqual({ type: 'volume', source: '', target: 'c:/data' });
  });
});

describe('Binds on the daemon (moby ParseMountRaw)', () => {
  it.each([
    [''], [':'], ['::'], ['/tmp:'], [':/test'], ['/path:rw'], ['/tmp:::'], ['a:b:c:d'],
  ])('refuses %j as an invalid spec', (raw) => {
    const err = errorOf(() => parseBind(raw));
    expect(err.message).toBe(`invalid volume specification: '${raw}'`);
    expect(err.code).toBe('invalid-volume-specification');
  });

  it.each([
    ['/p:/p:sw', 'invalid mode: sw'],
    ['/p:/p:ro,rw', 'invalid mode: ro,rw'],
    ['/p:/p:ro,', 'invalid mode: ro,'],
    ['/p:/p:shared,slave', 'invalid mode: shared,slave'],
    ['/p:tmp', `invalid mount config for type "bind": invalid mount path: 'tmp' mount path must be absolute`],
    ['/p:/', `invalid mount config for type "bind": invalid specification: destination can't be '/'`],
    ['/p:/..', `invalid mount config for type "bind": invalid specification: destination can't be '/'`],
    ['name:/p:shared', 'invalid mount config for type "volume": field BindOptions must not be specified'],
    ['/h:/p:nocopy', 'invalid mount config for type "bind": field VolumeOptions must not be specified'],
  ])('wraps the cause for %j', (raw, cause) => {
    expect(message(() => parseBind(raw))).toBe(`invalid volume specification: '${raw}': ${cause}`);
  });

  it('parses every mode class', () => {
    const spec = parseBind('/h/./x/:/c/d/:ro,rshared,Z,consistent');
    expect(spec).toMatchObject({
      type: 'bind', source: '/h/x', destination: '/c/d', readOnly: true, propagation: 'rshared', recursive: 'enabled',
      createSource: true, selinux: 'Z', anonymous: false,
    });
    expect(parseBind('vol:/d:nocopy,rw,cached')).toMatchObject({ type: 'volume', source: 'vol', nocopy: true, readOnly: false });
    expect(parseBind('/h:/d').propagation).toBe('rprivate');
    expect(parseBind('/h:/d:z,delegated').selinux).toBe('z');
  });

  it('applies HostConfig.VolumeDriver to named volumes only', () => {
    expect(parseBind('v:/d', 'local').volumeDriver).toBe('local');
    expect(parseBind('/h:/d', 'local').volumeDriver).toBeUndefined();
  });
});

describe('--mount on the CLI (docker/cli MountOpt)', () => {
  it('parses a bind with every bind option, keys case-insensitive', () => {
    const m = parseMountFlag('TYPE=bind,Src=./data,DST=/d,ReadOnly,bind-propagation=RSLAVE,bind-create-src', CWD);
    expect(m).toEqual({
      Type: 'bind', Source: `${CWD}/data`, Target: '/d', ReadOnly: true,
      BindOptions: { Propagation: 'rslave', CreateMountpoint: true },
    });
  });

  it('parses volume options', () => {
    const m = parseMountFlag(
      'source=v1,target=/data,volume-nocopy,volume-subpath=a/b,volume-label=k=v,volume-label=e,volume-driver=local,volume-opt=type=tmpfs,volume-opt=o=size=1m',
      CWD,
    );
    expect(m).toEqual({
      Type: 'volume', Source: 'v1', Target: '/data',
      VolumeOptions: {
        NoCopy: true, Subpath: 'a/b', Labels: { k: 'v', e: '' },
        DriverConfig: { Name: 'local', Options: { type: 'tmpfs', o: 'size=1m' } },
      },
    });
  });

  it('parses tmpfs size with suffixes and octal mode', () => {
    expect(parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=1.5m,tmpfs-mode=1770', CWD).TmpfsOptions)
      .toEqual({ SizeBytes: 1572864, Mode: 0o1770 });
    expect(parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=64k', CWD).TmpfsOptions).toEqual({ SizeBytes: 65536 });
    expect(parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=2GiB', CWD).TmpfsOptions).toEqual({ SizeBytes: 2 * 1024 ** 3 });
    expect(parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=100', CWD).TmpfsOptions).toEqual({ SizeBytes: 100 });
  });

  it.each([
    ['readonly=false', false], ['ro=1', true], ['ro=0', false], ['readonly=true', true],
  ])('reads boolean %s', (field, value) => {
    expect(parseMountFlag(`type=bind,src=/h,dst=/d,${field}`, CWD).ReadOnly).toBe(value);
  });

  it.each([
    ['bind-recursive=disabled', { NonRecursive: true }, ''],
    ['bind-recursive=writable', { ReadOnlyNonRecursive: true }, ',ro'],
    ['bind-recursive=readonly,bind-propagation=rprivate', { ReadOnlyForceRecursive: true, Propagation: 'rprivate' }, ',ro'],
    ['bind-recursive=enabled', {}, ''],
  ])('maps %s', (field, options, ro) => {
    expect(parseMountFlag(`type=bind,src=/h,dst=/d,${field}${ro}`, CWD).BindOptions).toEqual(options);
  });

  it('reads CSV quoting like Go', () => {
    expect(parseMountFlag('type=bind,"src=/a,b",dst=/d', CWD).Source).toBe('/a,b');
    expect(parseMountFlag('type=bind,"src=/a""b",dst=/d', CWD).Source).toBe('/a"b');
  });

  it.each([
    ['type=bind,src=/a,dst', "invalid field 'dst' must be a key=value pair"],
    ['type=bind,foo=bar,dst=/d', "unknown option 'foo' in 'foo=bar'"],
    ['type=bind,src=,dst=/d', "invalid value for 'src': value is empty"],
    ['type=volume,dst=/d,bind-propagation=shared', "cannot mix 'bind-*' options with mount type 'volume'"],
    ['type=bind,src=/h,dst=/d,volume-nocopy', "cannot mix 'volume-*' options with mount type 'bind'"],
    ['type=volume,dst=/d,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'volume'"],
    ['type=bind,src=/h,dst=/d,bind-recursive=maybe',
      'invalid value for bind-recursive: maybe (must be "enabled", "disabled", "writable", or "readonly")'],
    ['type=tmpfs,dst=/d,tmpfs-size=lots', 'invalid value for tmpfs-size: lots'],
    ['type=tmpfs,dst=/d,tmpfs-size=-1', 'invalid value for tmpfs-size: -1'],
    ['type=tmpfs,dst=/d,tmpfs-mode=0x1ff', 'invalid value for tmpfs-mode: 0x1ff'],
    ['type=tmpfs,dst=/d,tmpfs-mode=789', 'invalid value for tmpfs-mode: 789'],
    ['type=bind,src=/h', 'target is required'],
    ['type=bind,src=/h,dst=/d,bind-recursive=writable', "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction"],
    ['type=bind,src=/h,dst=/d,ro,bind-recursive=readonly',
      "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction"],
    ['type=bind,src=/h,dst=/d,ro=yes',
      `invalid value for 'ro': invalid boolean value ("yes"): must be one of "true", "1", "false", or "0"`],
    ['type=bind,src=/h,dst=/d,bind-nonrecursive', 'bind-nonrecursive is deprecated, use bind-recursive=disabled instead'],
    [' type=bind,dst=/d', "invalid option 'type' in ' type=bind': option should not have whitespace"],
    ['type=bind,src=a"b,dst=/d', 'parse error on line 1, column 16: bare " in non-quoted-field'],
    ['', 'EOF'],
  ])('refuses %j with %j', (value, expected) => {
    const err = errorOf(() => parseMountFlag(value, CWD));
    expect(err.message).toBe(expected);
    expect(err.code).toBe('invalid-mount-flag');
  });
});

describe('Mounts on the daemon (moby validateMountConfig)', () => {
  const resolve = (m: object) => resolveMounts({ HostConfig: { Mounts: [m] } });
  it.each([
    [{ Type: 'bind', Source: '/h' }, 'invalid mount config for type "bind": field Target must not be empty'],
    [{ Type: 'bind', Target: '/d' }, 'invalid mount config for type "bind": field Source must not be empty'],
    [{ Type: 'tmpfs', Source: 'x', Target: '/d' }, 'invalid mount config for type "tmpfs": field Source must not be specified'],
    [{ Type: 'bind', Source: '/h', Target: '/d', BindOptions: { Propagation: 'sideways' } },
      'invalid mount config for type "bind": invalid propagation mode: sideways'],
    [{ Type: 'nfs', Target: '/d' }, 'invalid mount config for type "nfs": mount type unknown'],
    [{ Type: 'volume', Source: 'v', Target: '/d', VolumeOptions: { Subpath: '../etc' } },
      'invalid mount config for type "volume": subpath must be a relative path within the volume'],
    [{ Type: 'volume', Source: 'v', Target: '/d', VolumeOptions: { Subpath: '/abs' } },
      'invalid mount config for type "volume": subpath must be a relative path within the volume'],
    [{ Type: 'volume', Target: '/d', VolumeOptions: { Subpath: 'a' } },
      'invalid mount config for type "volume": must not set Subpath when using anonymous volumes'],
    [{ Type: 'volume', Target: '/d', ReadOnly: true }, 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes'],
    [{ Type: 'bind', Source: 'rel', Target: '/d' }, `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`],
    [{ Type: 'tmpfs', Target: '/d', TmpfsOptions: { Options: [['bogus']] } }, 'invalid mount config for type "tmpfs": invalid tmpfs option "bogus"'],
  ])('refuses %j', (m, expected) => {
    expect(message(() => resolve(m))).toBe(expected);
  });

  it('refuses wrongly typed API fields with a typed error', () => {
    expect(errorOf(() => resolveMounts({ HostConfig: { Binds: 'v:/d' } })).code).toBe('invalid-api-field');
    expect(errorOf(() => resolveMounts({ HostConfig: { Mounts: [{ Type: 1 }] } })).message)
      .toBe('invalid HostConfig.Mounts[0].Type: expected a string');
    expect(errorOf(() => resolveMounts({ HostConfig: { Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: -1 } }] } })).code)
      .toBe('invalid-api-field');
    expect(errorOf(() => resolveMounts('nope')).code).toBe('invalid-api-field');
  });

  it('accepts a Docker create body with its nulls and unknown keys', () => {
    const body = {
      Image: 'busybox', Cmd: ['true'], Env: null, Entrypoint: null, Volumes: {},
      Config: { Volumes: null },
      HostConfig: { Binds: null, Mounts: null, Tmpfs: null, VolumesFrom: null, NetworkMode: 'default', MaskedPaths: null },
    };
    expect(resolveMounts(body)).toEqual([]);
  });
});

describe('--tmpfs', () => {
  it('goes to the Tmpfs map, later flags winning, and keeps options', () => {
    const api = cliToApiFields({ tmpfs: ['/run:size=64k', '/tmp', '/run:size=1m,mode=1777'] }, { cwd: CWD });
    expect(api.HostConfig.Tmpfs).toEqual({ '/run': 'size=1m,mode=1777', '/tmp': '' });
    const [run, tmp] = resolveMounts(api);
    expect(run).toMatchObject({ type: 'tmpfs', destination: '/run', tmpfsOptions: ['size=1m', 'mode=1777'], readOnly: false });
    expect(tmp).toMatchObject({ type: 'tmpfs', destination: '/tmp', readOnly: false });
    expect(tmp?.tmpfsOptions).toBeUndefined();
  });

  it('reads ro from the options', () => {
    expect(run({ tmpfs: ['/t:ro,size=1k'] })[0]?.readOnly).toBe(true);
    expect(run({ tmpfs: ['/t:ro,rw'] })[0]?.readOnly).toBe(false);
  });

  it.each([
    ['/', "invalid specification: destination can't be '/'"],
    ['rel', "invalid mount path: 'rel' mount path must be absolute"],
    ['/t:size=1m,bogus', 'invalid tmpfs option "bogus"'],
    ['/t:size=1m,,', 'invalid tmpfs option ""'],
  ])('refuses %j', (flag, expected) => {
    expect(message(() => run({ tmpfs: [flag] }))).toBe(expected);
  });

  it('merges options like moby: later wins, one per flag and key', () => {
    expect(mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', 'exec', 'size=1k', 'size=2k', 'shared', 'defaults']))
      .toEqual(['nosuid', 'nodev', 'exec', 'size=2k', 'shared']);
  });
});

describe('--volumes-from', () => {
  const source: MountSpec[] = [
    { type: 'volume', source: 'data', destination: '/data', readOnly: false, propagation: 'rprivate', recursive: 'enabled',
      createSource: false, nocopy: false, anonymous: true },
    { type: 'bind', source: '/h', destination: '/h', readOnly: true, propagation: 'rprivate', recursive: 'enabled',
      createSource: true, nocopy: false, anonymous: false },
    { type: 'tmpfs', source: '', destination: '/t', readOnly: false, propagation: 'rprivate', recursive: 'enabled',
      createSource: false, nocopy: false, anonymous: false },
  ];
  const volumesFrom = (ref: string) => (ref === 'c1' ? source : undefined);

  it("copies the container's volumes and binds, never copying up, read-only on :ro", () => {
    const mounts = run({ volumesFrom: ['c1:ro'] }, { volumesFrom });
    expect(mounts).toHaveLength(2);
    expect(mounts[0]).toMatchObject({ destination: '/data', source: 'data', readOnly: true, nocopy: true, anonymous: false, fromContainer: 'c1' });
    expect(mounts[1]).toMatchObject({ destination: '/h', readOnly: true, fromContainer: 'c1' });
    expect(run({ volumesFrom: ['c1'] }, { volumesFrom })[0]?.readOnly).toBe(false);
  });

  it('is overridden silently by a bind on the same destination', () => {
    const mounts = run({ volumesFrom: ['c1'], volume: ['other:/data'] }, { volumesFrom });
    expect(mounts.find((m) => m.destination === '/data')).toMatchObject({ source: 'other' });
    expect(mounts).toHaveLength(2);
  });

  it.each([
    ['', 'volumes-from specification cannot be an empty string'],
    ['c1:shared', 'invalid mode: shared'],
    ['c1:nocopy', 'invalid mode: nocopy'],
    ['c1:ro,rw', 'invalid mode: ro,rw'],
    ['ghost', 'No such container: ghost'],
  ])('refuses %j', (ref, expected) => {
    expect(message(() => run({ volumesFrom: [ref] }, { volumesFrom }))).toBe(expected);
  });

  it('parses the mode', () => {
    expect(parseVolumesFrom('c:ro')).toEqual({ container: 'c', readOnly: true });
    expect(parseVolumesFrom('c:rw')).toEqual({ container: 'c', readOnly: false });
  });
});

describe('duplicates, ordering and image VOLUMEs', () => {
  it.each([
    [{ volume: ['va:/d', 'vb:/d'] }, 'Duplicate mount point: /d'],
    [{ volume: ['va:/d', '/h:/d/'] }, 'Duplicate mount point: /d'],
    [{ volume: ['va:/d'], mount: ['type=volume,src=b,dst=/d'] }, 'Duplicate mount point: /d'],
    [{ mount: ['type=volume,src=b,dst=/d', 'type=tmpfs,dst=/d'] }, 'Duplicate mount point: /d'],
    [{ volume: ['va:/d'], tmpfs: ['/d'] }, 'Duplicate mount point: /d'],
    [{ mount: ['type=bind,src=/h,dst=/d'], tmpfs: ['/d'] }, 'Duplicate mount point: /d'],
  ])('refuses %j', (flags, expected) => {
    const err = errorOf(() => run(flags));
    expect(err.message).toBe(expected);
    expect(err.code).toBe('duplicate-mount-point');
  });

  it('orders by destination depth, keeping registration order for equal depths', () => {
    const mounts = run({
      volume: ['/h/conf:/etc/app/conf.d', 'v1:/etc'],
      mount: ['type=tmpfs,dst=/etc/app', 'type=volume,src=v2,dst=/srv'],
      tmpfs: ['/run'],
    });
    expect(mounts.map((m) => m.destination)).toEqual(['/etc', '/srv', '/run', '/etc/app', '/etc/app/conf.d']);
  });

  it('makes image VOLUMEs anonymous volumes unless a mount covers them', () => {
    const mounts = run({ volume: ['named:/data', '/anon'], tmpfs: ['/cache'] }, { imageVolumes: ['/data', '/logs/', '/cache', '/anon'] });
    expect(mounts.map((m) => [m.destination, m.source, m.anonymous, m.fromImage ?? false])).toEqual([
      ['/data', 'named', false, false],
      ['/cache', '', false, false],
      ['/anon', '', true, false],
      ['/logs', '', true, true],
    ]);
  });

  it('refuses a relative anonymous volume', () => {
    expect(message(() => run({ volume: ['ab'] })))
      .toBe(`invalid mount config for type "volume": invalid mount path: 'ab' mount path must be absolute`);
  });
});

describe('the API path equals the CLI path', () => {
  const flags: CliMountFlags = {
    volume: ['v1:/data:ro,nocopy', '/srv/www:/www:rshared', '/anon'],
    mount: ['type=tmpfs,dst=/scratch,tmpfs-size=1m,tmpfs-mode=700', 'type=bind,src=/h,dst=/h,readonly,bind-recursive=writable',
      'type=volume,src=v2,dst=/v2,volume-subpath=sub,volume-label=a=b'],
    tmpfs: ['/run:size=64k'],
    readOnly: true,
  };
  const body = {
    Config: { Volumes: { '/anon': {} } },
    HostConfig: {
      Binds: ['v1:/data:ro,nocopy', '/srv/www:/www:rshared'],
      Mounts: [
        { Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o700 } },
        { Type: 'bind', Source: '/h', Target: '/h', ReadOnly: true, BindOptions: { ReadOnlyNonRecursive: true } },
        { Type: 'volume', Source: 'v2', Target: '/v2', VolumeOptions: { Subpath: 'sub', Labels: { a: 'b' } } },
      ],
      Tmpfs: { '/run': 'size=64k' },
      ReadonlyRootfs: true,
    },
  };

  it('sends what the docker CLI sends', () => {
    const api = cliToApiFields(flags, { cwd: CWD });
    expect(api.HostConfig.Binds).toEqual(body.HostConfig.Binds);
    expect(api.HostConfig.Tmpfs).toEqual(body.HostConfig.Tmpfs);
    expect(api.Config.Volumes).toEqual(body.Config.Volumes);
    expect(api.HostConfig.ReadonlyRootfs).toBe(true);
  });

  it('resolves to the same specs', () => {
    const viaCli = run(flags);
    expect(resolveMounts(body)).toEqual(viaCli);
    expect(viaCli.find((m) => m.destination === '/h')).toMatchObject({ readOnly: true, recursive: 'writable', createSource: false });
    expect(viaCli.find((m) => m.destination === '/v2')).toMatchObject({ subpath: 'sub', volumeLabels: { a: 'b' } });
    expect(viaCli.find((m) => m.destination === '/scratch')).toMatchObject({ tmpfsSizeBytes: 1048576, tmpfsMode: 0o700 });
  });
});
