import { describe, expect, it } from 'vitest';
import { buildCreateRequest, resolveEnv, type CreateFlags } from '../../src/create-body.js';
import { UsageError } from '../../src/errors.js';
import { convertMountFlags } from '../../src/mount-flags.js';

const convertMountFlag = (value: string) => convertMountFlags({ volume: [], mount: [value], tmpfs: [] }, '/').Mounts[0];

const none: CreateFlags = { volume: [], mount: [], tmpfs: [], volumesFrom: [], env: [], envFile: [] };
const ctx = { cwd: '/home/u/project', env: { HOME: '/root' } };

describe('-v, --mount, --tmpfs into API fields (docker CLI placement)', () => {
  it('puts named volumes and host paths in Binds, anonymous paths in Volumes', () => {
    const f = convertMountFlags({ volume: ['data:/data', '/srv:/srv:ro', './rel:/rel', '/anon'], mount: [], tmpfs: [] }, '/home/u/project');
    expect(f.Binds).toEqual(['data:/data', '/srv:/srv:ro', '/home/u/project/rel:/rel']);
    expect(f.Volumes).toEqual({ '/anon': {} });
  });
  it("keeps docker CLI's drive-letter quirk: a one-letter source is part of the target", () => {
    const f = convertMountFlags({ volume: ['v:/d'], mount: [], tmpfs: [] }, '/');
    expect(f).toMatchObject({ Binds: [], Volumes: { 'v:/d': {} } });
  });
  it('leaves path checks to the server, as the docker CLI does, but refuses malformed syntax', () => {
    expect(convertMountFlags({ volume: ['data:rel'], mount: [], tmpfs: [] }, '/').Binds).toEqual(['data:rel']);
    expect(() => convertMountFlags({ volume: ['src:/a:ro:extra'], mount: [], tmpfs: [] }, '/')).toThrow(UsageError);
    expect(() => convertMountFlags({ volume: [''], mount: [], tmpfs: [] }, '/')).toThrow(/invalid empty volume spec/);
  });
  it('turns --mount into Mounts objects', () => {
    expect(convertMountFlag('type=volume,source=v1,target=/data,readonly')).toEqual({ Type: 'volume', Source: 'v1', Target: '/data', ReadOnly: true });
    expect(convertMountFlag('type=tmpfs,dst=/s,tmpfs-size=1m,tmpfs-mode=1770')).toEqual({ Type: 'tmpfs', Target: '/s', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1770 } });
    expect(convertMountFlag('type=bind,src=/h,target=/c,bind-propagation=rslave')).toEqual({ Type: 'bind', Source: '/h', Target: '/c', BindOptions: { Propagation: 'rslave' } });
    expect(() => convertMountFlag('type=bind,target=/x,volume-nocopy')).toThrow(/cannot mix 'volume-\*' options with mount type 'bind'/);
    expect(() => convertMountFlag('source')).toThrow(/invalid field 'source' must be a key=value pair/);
  });
  it('turns --tmpfs into the Tmpfs map', () => {
    expect(convertMountFlags({ volume: [], mount: [], tmpfs: ['/run:size=64k', '/tmp'] }, '/').Tmpfs).toEqual({ '/run': 'size=64k', '/tmp': '' });
  });
});

describe('create body', () => {
  it('sends docker zero values when no flag is given', () => {
    const { name, body } = buildCreateRequest(none, 'busybox', [], ctx);
    expect(name).toBeUndefined();
    expect(body).toMatchObject({ Image: 'busybox', Cmd: null, Env: null, Entrypoint: null, Volumes: {}, NetworkingConfig: { EndpointsConfig: { default: {} } } });
    expect(body['HostConfig']).toEqual({
      Binds: null, NetworkMode: 'default', AutoRemove: false, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      LogConfig: { Type: '', Config: {} }, VolumesFrom: null, ReadonlyRootfs: false,
      Memory: 0, NanoCpus: 0, PidsLimit: 0, Init: null, MaskedPaths: null, ReadonlyPaths: null,
      PortBindings: {}, PublishAllPorts: false, Dns: [], DnsSearch: [], DnsOptions: [], ExtraHosts: null, Links: null,
    });
  });
  it('sends the network flags as the docker CLI does', () => {
    const { body } = buildCreateRequest({
      ...none, network: 'mynet', publish: ['127.0.0.1:8080:80', '53/udp', '9000:90'], publishAll: true, networkAlias: ['web'],
      ip: '10.1.0.5', dns: ['9.9.9.9'], addHost: ['h:host-gateway'], link: ['db:database'],
    }, 'i', [], ctx);
    expect(body).toMatchObject({
      ExposedPorts: { '80/tcp': {}, '53/udp': {}, '90/tcp': {} },
      HostConfig: {
        NetworkMode: 'mynet', PublishAllPorts: true, Dns: ['9.9.9.9'], ExtraHosts: ['h:host-gateway'], Links: ['db:database'],
        PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '' }], '90/tcp': [{ HostIp: '', HostPort: '9000' }] },
      },
      NetworkingConfig: { EndpointsConfig: { mynet: { Aliases: ['web'], IPAMConfig: { IPv4Address: '10.1.0.5' } } } },
    });
    expect(() => buildCreateRequest({ ...none, publish: ['1-2:80'] }, 'i', [], ctx)).toThrow(/invalid -p/);
  });
  it('maps every flag to its field', () => {
    const flags: CreateFlags = {
      ...none, name: 'n', rm: true, volume: ['vol:/d'], mount: ['type=tmpfs,target=/s'], tmpfs: ['/run'], volumesFrom: ['other:ro'],
      readOnly: true, env: ['A=1', 'HOME', 'UNSET'], workdir: '/w', user: '1000:1000', hostname: 'h', memory: '64m', pidsLimit: '100',
      cpus: '1.5', network: 'none', entrypoint: '', init: true,
    };
    const { name, body } = buildCreateRequest(flags, 'img', ['sh', '-c', 'x'], ctx);
    expect(name).toBe('n');
    expect(body).toMatchObject({ Env: ['A=1', 'HOME=/root'], WorkingDir: '/w', User: '1000:1000', Hostname: 'h', Entrypoint: [''], Cmd: ['sh', '-c', 'x'] });
    expect(body['HostConfig']).toMatchObject({
      Binds: ['vol:/d'], Mounts: [{ Type: 'tmpfs', Target: '/s' }], Tmpfs: { '/run': '' }, VolumesFrom: ['other:ro'], ReadonlyRootfs: true,
      AutoRemove: true, Memory: 64 * 1024 * 1024, PidsLimit: 100, NanoCpus: 1_500_000_000, NetworkMode: 'none', Init: true,
    });
  });
  it('-i opens stdin as the docker CLI does: attached runs also attach it and end it with their input', () => {
    expect(buildCreateRequest(none, 'img', [], ctx).body).toMatchObject({ OpenStdin: false, AttachStdin: false, StdinOnce: false });
    expect(buildCreateRequest({ ...none, interactive: true }, 'img', [], ctx).body).toMatchObject({ OpenStdin: true, AttachStdin: true, StdinOnce: true });
    expect(buildCreateRequest({ ...none, interactive: true, detach: true }, 'img', [], ctx).body).toMatchObject({ OpenStdin: true, AttachStdin: false, StdinOnce: false });
  });
  it('-t asks for a terminal, sized like the caller\'s when berth runs in one', () => {
    expect(buildCreateRequest({ ...none, tty: true }, 'img', [], ctx).body).toMatchObject({ Tty: true });
    expect((buildCreateRequest({ ...none, tty: true }, 'img', [], ctx).body['HostConfig'] as Record<string, unknown>)['ConsoleSize']).toBeUndefined();
    expect(buildCreateRequest({ ...none, tty: true, consoleSize: [30, 90] }, 'img', [], ctx).body['HostConfig']).toMatchObject({ ConsoleSize: [30, 90] });
    expect(buildCreateRequest(none, 'img', [], ctx).body).toMatchObject({ Tty: false });
  });
  it('--restart in docker\'s syntax; --rm excludes it, as the docker CLI says', () => {
    const policy = (restart: string): unknown => (buildCreateRequest({ ...none, restart }, 'i', [], ctx).body['HostConfig'] as Record<string, unknown>)['RestartPolicy'];
    expect(policy('always')).toEqual({ Name: 'always', MaximumRetryCount: 0 });
    expect(policy('on-failure:3')).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
    expect(policy('unless-stopped')).toEqual({ Name: 'unless-stopped', MaximumRetryCount: 0 });
    expect(() => policy('on-failure:x')).toThrow("invalid --restart 'on-failure:x': use no, always, unless-stopped or on-failure[:max-retries]");
    expect(() => buildCreateRequest({ ...none, restart: 'always', rm: true }, 'i', [], ctx)).toThrow('conflicting options: cannot specify both --restart and --rm');
  });
  it('--log-driver and --log-opt into LogConfig', () => {
    const body = buildCreateRequest({ ...none, logDriver: 'json-file', logOpt: ['max-size=10m', 'max-file=3'] }, 'i', [], ctx).body;
    expect(body['HostConfig']).toMatchObject({ LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } } });
    expect(() => buildCreateRequest({ ...none, logOpt: ['max-size'] }, 'i', [], ctx)).toThrow("invalid --log-opt 'max-size': use key=value, for example max-size=10m");
  });
  it('rejects what berth cannot do, saying what it can', () => {
    expect(() => buildCreateRequest({ ...none, cpus: 'two' }, 'i', [], ctx)).toThrow(/invalid --cpus/);
    expect(() => buildCreateRequest({ ...none, pidsLimit: '1.5' }, 'i', [], ctx)).toThrow(/invalid --pids-limit/);
    expect(() => buildCreateRequest({ ...none, memory: '12q' }, 'i', [], ctx)).toThrow(/invalid --memory/);
  });
  it('resolves -e NAME from the environment and drops unset ones', () => {
    expect(resolveEnv(['X', 'Y', 'Z=1'], { X: 'x' })).toEqual(['X=x', 'Z=1']);
  });
});
