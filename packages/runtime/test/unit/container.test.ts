import { describe, expect, it } from 'vitest';
import {
  defaultHostConfig, mergeImageConfig, parseCreateBody, resolveContainer, type ImageFacts, type ResolveContext,
} from '../../src/container/index.js';
import { CreateRequestError, MountSpecError, PlanError, UnsupportedFieldError } from '../../src/errors.js';
import { readBoundingSet } from '../../src/security/index.js';
import type { MountSpec } from '../../src/spec/index.js';

const ID = 'c0ffee'.repeat(10) + 'abcd';
const BUSYBOX: ImageFacts = { id: 'sha256:' + 'b'.repeat(64), config: { Cmd: ['sh'], Env: ['PATH=/usr/bin:/bin'] } };

function resolve(body: Record<string, unknown>, ctx: Partial<ResolveContext> = {}) {
  return resolveContainer(parseCreateBody({ Image: 'busybox', ...body }), { id: ID, image: BUSYBOX, ...ctx });
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('parseCreateBody: the one create-body validator', () => {
  it('accepts what the docker CLI sends: zero values, nulls, unknown keys', () => {
    const req = parseCreateBody({
      Image: 'busybox', Cmd: ['true'], Env: null, Entrypoint: null, Volumes: {}, Unknown: 1,
      HostConfig: {
        NetworkMode: 'default', PidsLimit: 0, Memory: 0, MaskedPaths: null, SomethingNew: true, CapAdd: null, CapDrop: [],
        Privileged: false, BlkioWeight: 0, Devices: [], Isolation: '', IpcMode: '', CgroupnsMode: '', MemorySwappiness: -1,
      },
      NetworkingConfig: { EndpointsConfig: { default: {} } },
    });
    expect(req.config.Image).toBe('busybox');
    expect(req.hostConfig.MaskedPaths).toBeNull();
    expect(req.networkingConfig).toEqual({ EndpointsConfig: { default: {} } });
    expect('SomethingNew' in req.hostConfig).toBe(false);
  });

  it('turns a string Cmd or Entrypoint into a list, as Docker\'s strslice does', () => {
    expect(parseCreateBody({ Image: 'b', Cmd: 'ls -l', Entrypoint: '/e' }).config).toMatchObject({ Cmd: ['ls -l'], Entrypoint: ['/e'] });
  });

  it('rejects wrong types with a message naming the field', () => {
    expect(() => parseCreateBody({ Image: 'b', Env: 'A=1' })).toThrow(/Env must be an array of strings/);
    expect(() => parseCreateBody({ Image: 'b', HostConfig: { Binds: [1] } })).toThrow(/HostConfig.Binds/);
    expect(() => parseCreateBody({ Image: 'b', HostConfig: [] })).toThrow(/HostConfig must be an object/);
    expect(() => parseCreateBody({ Image: 'b', HostConfig: { Memory: 1.5 } })).toThrow(/HostConfig.Memory must be an integer/);
    expect(() => parseCreateBody({ Image: 'b', HostConfig: { Mounts: [{ Type: 1 }] } })).toThrow(MountSpecError);
    expect(thrown(() => parseCreateBody({ Cmd: ['x'] }))).toBeInstanceOf(CreateRequestError);
    expect(thrown(() => parseCreateBody('x'))).toBeInstanceOf(CreateRequestError);
  });

  it.each([
    ['HostConfig.StorageOpt', { HostConfig: { StorageOpt: { size: '1G' } } }],
    ['HostConfig.BlkioWeight', { HostConfig: { BlkioWeight: 300 } }],
    ['HostConfig.CpuRealtimePeriod', { HostConfig: { CpuRealtimePeriod: 1000 } }],
    ['HostConfig.UsernsMode', { HostConfig: { UsernsMode: 'host' } }],
    ['HostConfig.CgroupnsMode', { HostConfig: { CgroupnsMode: 'private' } }],
    ['Domainname', { Domainname: 'example.org' }],
  ])('refuses %s set to what berth does not implement, naming it', (field, body) => {
    const error = thrown(() => parseCreateBody({ Image: 'b', ...body }));
    expect(error).toBeInstanceOf(UnsupportedFieldError);
    expect((error as UnsupportedFieldError).field).toBe(field);
    expect((error as Error).message).toMatch(new RegExp(`^berth does not implement ${field.replace('.', '\\.')} \\(got `));
  });

  it("accepts Docker's own defaults of the fields it does not otherwise implement", () => {
    expect(() => parseCreateBody({ Image: 'b', HostConfig: { IpcMode: 'private', CgroupnsMode: 'host', Isolation: 'default' } })).not.toThrow();
  });
});

describe('resolveContainer: the stored record, as Docker stores it', () => {
  it('defaults every HostConfig field as dockerd 20.10 shows a container created with an empty one', () => {
    const spec = resolve({ Cmd: ['true'] });
    expect(spec.hostConfig).toEqual(defaultHostConfig());
    expect(spec.hostConfig).toMatchObject({
      LogConfig: { Type: 'json-file', Config: {} }, ShmSize: 67108864, NetworkMode: 'default', RestartPolicy: { Name: '', MaximumRetryCount: 0 },
      PidsLimit: null, IpcMode: 'private', CgroupnsMode: 'host', ConsoleSize: [0, 0], MemorySwappiness: null,
    });
    expect(spec.hostConfig.MaskedPaths).toContain('/proc/kcore');
    expect(spec.imageId).toBe(BUSYBOX.id);
  });

  it('keeps what the client sent over the defaults: [] stays [], NetworkMode stays as given, 0 pids means null', () => {
    const spec = resolve({ Cmd: ['true'], HostConfig: { Dns: [], NetworkMode: 'default', PidsLimit: 0, ShmSize: 0, LogConfig: { Type: '', Config: null } } });
    expect(spec.hostConfig.Dns).toEqual([]);
    expect(spec.hostConfig.NetworkMode).toBe('default');
    expect(spec.hostConfig.PidsLimit).toBeNull();
    expect(spec.hostConfig.ShmSize).toBe(67108864);
    expect(spec.hostConfig.LogConfig).toEqual({ Type: 'json-file', Config: {} });
    expect(resolve({ Cmd: ['true'], HostConfig: { PidsLimit: 50, ShmSize: 1 << 20 } }).hostConfig).toMatchObject({ PidsLimit: 50, ShmSize: 1 << 20 });
    expect(() => resolve({ Cmd: ['true'], HostConfig: { ShmSize: -1 } })).toThrow('SHM size can not be less than 0');
  });

  it('merges the image config once, as moby\'s merge: user env first, image env it does not set after', () => {
    const image: ImageFacts = {
      id: 'sha256:1', config: { Cmd: ['sh'], Env: ['A=1', 'PATH=/bin'], WorkingDir: '/w', User: 'nobody', Labels: { a: 'image', b: 'image' }, Volumes: { '/v': {} } },
    };
    const spec = resolve({ Env: ['B=2', 'A=9'], Labels: { b: 'user' } }, { image });
    expect(spec.config).toMatchObject({
      Cmd: ['sh'], Env: ['B=2', 'A=9', 'PATH=/bin'], WorkingDir: '/w', User: 'nobody', Labels: { a: 'image', b: 'user' },
      Volumes: { '/v': {} }, Image: 'busybox', Entrypoint: null, Hostname: ID.slice(0, 12),
    });
    expect(mergeImageConfig({ Image: 'i', Entrypoint: ['/e'] }, { Cmd: ['sh'] }).Cmd).toBeNull();
    expect(mergeImageConfig({ Image: 'i', Entrypoint: [''], Cmd: ['ls'] }, { Entrypoint: ['/ep'] }).Entrypoint).toBeNull();
  });

  it("says Docker's `No command specified` at create", () => {
    const error = thrown(() => resolve({}, { image: { id: 'sha256:2', config: {} } }));
    expect(error).toBeInstanceOf(PlanError);
    expect((error as Error).message).toBe('No command specified');
  });

  it('gives a --network host container the host\'s hostname, others the id\'s first 12 characters', () => {
    expect(resolve({ Cmd: ['true'], HostConfig: { NetworkMode: 'host' } }, { hostHostname: 'box' }).config.Hostname).toBe('box');
    expect(resolve({ Cmd: ['true'] }, { hostHostname: 'box' }).config.Hostname).toBe(ID.slice(0, 12));
    expect(resolve({ Cmd: ['true'], Hostname: 'web' }).config.Hostname).toBe('web');
    expect(resolve({ Cmd: ['true'], HostConfig: { UTSMode: 'host' } }, { hostHostname: 'box' }).config.Hostname).toBe('box');
    expect(() => resolve({ Cmd: ['true'], Hostname: 'web', HostConfig: { UTSMode: 'host' } })).toThrow('conflicting options: hostname and the UTS mode');
  });

  it('takes --link as Docker does: ignored without a network, refused with the host\'s', () => {
    expect(resolve({ Cmd: ['true'], HostConfig: { NetworkMode: 'none', Links: ['web_1:web'] } }).hostConfig.Links).toEqual(['web_1:web']);
    expect(() => resolve({ Cmd: ['true'], HostConfig: { NetworkMode: 'host', Links: ['a:b'] } })).toThrow("host type networking can't be used with links");
    expect(() => resolve({ Cmd: ['true'], HostConfig: { Links: ['a:b'] } })).toThrow(UnsupportedFieldError);
  });

  it('refuses at create what Docker refuses at create (limits, working directory)', () => {
    expect(() => resolve({ Cmd: ['true'], HostConfig: { Memory: 1024 } })).toThrow('Minimum memory limit allowed is 6MB');
    expect(() => resolve({ Cmd: ['true'], WorkingDir: 'rel' })).toThrow("the working directory 'rel' is invalid, it needs to be an absolute path");
  });

  it('resolves every mount field into one list of MountSpecs, with Docker\'s Mode text', () => {
    const spec = resolve({
      Cmd: ['true'], Volumes: { '/anon': {} },
      HostConfig: {
        Binds: ['named:/a', '/h:/h:ro', 'v3:/n:nocopy'], Tmpfs: { '/t': 'size=64k' },
        Mounts: [{ Type: 'volume', Source: 'sub', Target: '/s', VolumeOptions: { Subpath: 'x/y' } }, { Type: 'tmpfs', Target: '/m' }],
      },
    });
    const by = (d: string): MountSpec => spec.mounts.find((m) => m.destination === d)!;
    expect(spec.mounts.map((m) => m.destination)).toEqual(['/a', '/h', '/n', '/s', '/m', '/t', '/anon']);
    expect(by('/a')).toMatchObject({ type: 'volume', source: 'named', mode: 'z' });
    expect(by('/h')).toMatchObject({ type: 'bind', source: '/h', mode: 'ro', readOnly: true });
    expect(by('/n')).toMatchObject({ mode: 'nocopy', nocopy: true });
    expect(by('/s')).toMatchObject({ subpath: 'x/y', mode: 'z' });
    expect(by('/anon')).toMatchObject({ anonymous: true, source: '' });
    expect(by('/anon').mode).toBeUndefined();
    expect(by('/t').unlisted).toBe(true);
    expect(by('/m').unlisted).toBeUndefined();
  });

  it('copies --volumes-from from the source container\'s stored specs: subpath, read-only and propagation intact', () => {
    const stored: MountSpec[] = [
      { type: 'volume', source: 'data', destination: '/d', readOnly: false, propagation: 'rprivate', recursive: 'enabled', createSource: false, nocopy: false, anonymous: false, subpath: 'sub', mode: 'z' },
      { type: 'bind', source: '/srv', destination: '/srv', readOnly: true, propagation: 'rslave', recursive: 'enabled', createSource: true, nocopy: false, anonymous: false },
      { type: 'tmpfs', source: '', destination: '/t', readOnly: false, propagation: 'rprivate', recursive: 'enabled', createSource: false, nocopy: false, anonymous: false },
    ];
    const spec = resolve({ Cmd: ['true'], HostConfig: { VolumesFrom: ['src:ro'] } }, { volumesFrom: (ref) => (ref === 'src' ? stored : undefined) });
    expect(spec.mounts).toEqual([
      { ...stored[0], readOnly: true, nocopy: true, createSource: false, fromContainer: 'src' },
      { ...stored[1], readOnly: true, nocopy: true, createSource: false, fromContainer: 'src' },
    ]);
    const missing = thrown(() => resolve({ Cmd: ['true'], HostConfig: { VolumesFrom: ['nope'] } }, { volumesFrom: () => undefined }));
    expect((missing as MountSpecError).code).toBe('no-such-container');
  });

  it('refuses a duplicate mount point with a typed error (a 400, never a 500)', () => {
    const error = thrown(() => resolve({ Cmd: ['true'], HostConfig: { Binds: ['a:/d', 'b:/d'] } }));
    expect(error).toBeInstanceOf(MountSpecError);
    expect((error as MountSpecError).code).toBe('duplicate-mount-point');
  });
});

describe('capabilities never exceed what the daemon can hand on', () => {
  it('cuts --privileged and --cap-add ALL down to the daemon\'s bounding set (as read from /proc/self/status)', () => {
    const bounding = readBoundingSet('Name:\tx\nCapBnd:\t000001fffeffffff\n');
    expect(bounding?.has(24)).toBe(false);
    expect(bounding?.has(40)).toBe(true);
    const spec = resolve({ Cmd: ['true'], HostConfig: { Privileged: true } }, { lastCap: 40, ...(bounding ? { boundingSet: bounding } : {}) });
    expect(spec.security.capabilities.names).not.toContain('CAP_SYS_RESOURCE');
    expect(spec.security.capabilities.mask).toBe(0x1fffeffffff);
    const full = resolve({ Cmd: ['true'], HostConfig: { Privileged: true } }, { lastCap: 40 });
    expect(full.security.capabilities.mask).toBe(0x1ffffffffff);
  });
});
