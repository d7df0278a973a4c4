/**
 * The container model as Docker clients others wrote see it (issue 12):
 * the docker CLI, the Python Docker SDK, raw HTTP and docker-compose 1.29
 * against a real supervisor. What they read back is the record resolved at
 * create, never the request echoed.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busyboxImageArchive } from '../helpers/busybox-image.js';
import { Daemon, describeRoot, hostMountTable } from '@berth/testing';

const run = promisify(execFile);
const IMAGE = 'berth-test/busybox';

/** The HostConfig keys dockerd 20.10 (API 1.41) shows for a container created with an empty HostConfig. */
const DOCKER_HOST_CONFIG_KEYS = [
  'Binds', 'ContainerIDFile', 'LogConfig', 'NetworkMode', 'PortBindings', 'RestartPolicy', 'AutoRemove', 'VolumeDriver',
  'VolumesFrom', 'CapAdd', 'CapDrop', 'CgroupnsMode', 'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'GroupAdd', 'IpcMode',
  'Cgroup', 'Links', 'OomScoreAdj', 'PidMode', 'Privileged', 'PublishAllPorts', 'ReadonlyRootfs', 'SecurityOpt', 'UTSMode',
  'UsernsMode', 'ShmSize', 'ConsoleSize', 'Isolation', 'CpuShares', 'Memory', 'NanoCpus', 'CgroupParent', 'BlkioWeight',
  'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps',
  'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems', 'Devices',
  'DeviceCgroupRules', 'DeviceRequests', 'KernelMemory', 'KernelMemoryTCP', 'MemoryReservation', 'MemorySwap',
  'MemorySwappiness', 'OomKillDisable', 'PidsLimit', 'Ulimits', 'CpuCount', 'CpuPercent', 'IOMaximumIOps',
  'IOMaximumBandwidth', 'MaskedPaths', 'ReadonlyPaths',
];

/** The Config keys dockerd 20.10 shows for the same container. */
const DOCKER_CONFIG_KEYS = [
  'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'Env',
  'Cmd', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'OnBuild', 'Labels',
];

describeRoot('the container model through Docker clients (docker CLI, Python SDK, raw HTTP, docker-compose)', () => {
  let root: string;
  let daemon: Daemon;
  let mountsBefore: string;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${daemon.opts.socketPath}`, DOCKER_CONFIG: join(root, 'docker-config') });
  const docker = (...args: string[]): Promise<{ stdout: string; stderr: string }> => run('docker', args, { env: env() });
  const failure = (p: Promise<unknown>): Promise<{ stderr: string; code: number }> =>
    p.then(() => { throw new Error('expected the command to fail'); }, (e: { stderr: string; code: number }) => e);
  const inspect = async (ref: string): Promise<Record<string, unknown> & { Mounts: Array<Record<string, unknown>> }> =>
    JSON.parse((await docker('inspect', ref)).stdout)[0];

  /** One HTTP request on the socket: status and parsed body. */
  function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: daemon.opts.socketPath, method, path, headers: { 'Content-Type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : JSON.parse(text) as Record<string, unknown> });
        });
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  const python = (script: string): Promise<{ stdout: string; stderr: string }> =>
    run('python3', ['-c', `import docker\nclient = docker.DockerClient(base_url='unix://${daemon.opts.socketPath}')\n${script}`], { env: env() });

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    root = mkdtempSync(join(tmpdir(), 'berth-model-'));
    daemon = new Daemon({ root: join(root, 'state'), socketPath: join(root, 'berth.sock'), logPath: join(root, 'daemon.log') });
    await daemon.start();
    writeFileSync(join(root, 'busybox.tar'), await busyboxImageArchive());
    await docker('image', 'load', '-i', join(root, 'busybox.tar'));
  });

  afterAll(async () => {
    if (daemon) {
      for (const c of await daemon.docker.listContainers({ all: true })) await daemon.docker.getContainer(c.Id).remove({ force: true, v: true });
      await daemon.stop();
    }
    rmSync(root, { recursive: true, force: true });
    expect(hostMountTable()).toBe(mountsBefore);
  });

  it('docker create makes and lists the volumes at create, and they are in use from then on', async () => {
    const id = (await docker('create', '--name', 'c1', '-v', 'cvol1:/a', '-v', '/b', IMAGE, 'true')).stdout.trim();
    const { Mounts } = await inspect(id);
    const anonymous = Mounts.find((m) => m['Destination'] === '/b');
    expect(Mounts.find((m) => m['Destination'] === '/a')).toEqual({
      Type: 'volume', Name: 'cvol1', Source: join(root, 'state', 'volumes', 'cvol1', '_data'), Destination: '/a', Driver: 'local',
      Mode: 'z', RW: true, Propagation: '',
    });
    expect(anonymous).toMatchObject({ Type: 'volume', Destination: '/b', Mode: '', RW: true });
    expect(anonymous?.['Name']).toMatch(/^[0-9a-f]{64}$/);
    const volumes = (await docker('volume', 'ls', '-q')).stdout.split('\n');
    expect(volumes).toEqual(expect.arrayContaining(['cvol1', anonymous?.['Name'] as string]));
    expect((await failure(docker('volume', 'rm', 'cvol1'))).stderr).toContain('volume is in use');
    await docker('rm', '-v', 'c1');
    expect((await docker('volume', 'ls', '-q')).stdout.split('\n')).not.toContain(anonymous?.['Name']);
    await docker('volume', 'rm', 'cvol1');
  });

  it("inspect shows Docker's full, defaulted HostConfig and Config, not the request", async () => {
    const created = await api('POST', '/v1.41/containers/create?name=minimal', { Image: IMAGE, Cmd: ['true'] });
    expect(created.status).toBe(201);
    const { body } = await api('GET', '/v1.41/containers/minimal/json');
    const host = body['HostConfig'] as Record<string, unknown>;
    expect(Object.keys(host)).toEqual(expect.arrayContaining(DOCKER_HOST_CONFIG_KEYS));
    expect(host).toMatchObject({ LogConfig: { Type: 'json-file', Config: {} }, ShmSize: 67108864, NetworkMode: 'default', RestartPolicy: { Name: '', MaximumRetryCount: 0 } });
    expect(Object.keys(body['Config'] as object)).toEqual(expect.arrayContaining(DOCKER_CONFIG_KEYS));
    expect(body['Config']).toMatchObject({ Cmd: ['true'], Env: ['PATH=/bin'], Image: IMAGE, Hostname: (created.body['Id'] as string).slice(0, 12) });
    expect((body['NetworkSettings'] as { Networks: object }).Networks).toHaveProperty('bridge');
    await docker('rm', 'minimal');
  });

  it('the Python Docker SDK runs a container and reads its output (it reads HostConfig.LogConfig.Type to do so)', async () => {
    const { stdout } = await python([
      `out = client.containers.run('${IMAGE}', ['sh', '-c', 'echo from-python'], remove=True)`,
      'print(out.decode().strip())',
      `c = client.containers.create('${IMAGE}', 'true', volumes={'pyvol': {'bind': '/d', 'mode': 'ro'}})`,
      "print(c.attrs['HostConfig']['LogConfig']['Type'], [m['Name'] + ':' + m['Mode'] for m in c.attrs['Mounts']])",
      'c.remove(v=True)',
      "client.volumes.get('pyvol').remove()",
    ].join('\n'));
    expect(stdout).toBe("from-python\njson-file ['pyvol:ro']\n");
  });

  it('--volumes-from keeps the source mount\'s volume-subpath: only the subpath is shared', async () => {
    await docker('run', '--rm', '-v', 'subvol:/d', IMAGE, 'sh', '-c', 'mkdir -p /d/sub && echo inner > /d/sub/f && echo outer > /d/top');
    await docker('create', '--name', 'subsrc', '--mount', 'type=volume,src=subvol,dst=/data,volume-subpath=sub', IMAGE, 'true');
    const { stdout } = await docker('run', '--rm', '--volumes-from', 'subsrc:ro', IMAGE, 'sh', '-c', 'ls /data; touch /data/x 2>&1 | grep -o "Read-only"');
    expect(stdout).toBe('f\nRead-only\n');
    await docker('rm', 'subsrc');
    await docker('volume', 'rm', 'subvol');
  });

  it('refuses bad requests with Docker\'s 400 and 404, never 500, and leaves nothing behind', async () => {
    const cases: Array<[unknown, number, RegExp]> = [
      [{ Image: IMAGE, Cmd: ['true'], HostConfig: { Binds: ['a1:/d', 'b1:/d'] } }, 400, /Duplicate mount point: \/d/],
      [{ Image: IMAGE, Cmd: ['true'], HostConfig: { Mounts: [{ Type: 'bind', Source: '/nonexistent/berth', Target: '/x' }] } }, 400, /bind source path does not exist: \/nonexistent\/berth/],
      [{ Image: IMAGE, Cmd: ['true'], HostConfig: { VolumesFrom: ['nosuchcontainer'] } }, 400, /No such container: nosuchcontainer/],
      [{ Image: IMAGE, Cmd: ['true'], HostConfig: { BlkioWeight: 300 } }, 400, /berth does not implement HostConfig\.BlkioWeight/],
      [{ Image: IMAGE, Cmd: ['true'], HostConfig: { CapAdd: ['NOPE'] } }, 400, /unknown capability: "CAP_NOPE"/],
      [{ Image: IMAGE, Cmd: ['true'], HostConfig: { Memory: 1024 } }, 400, /Minimum memory limit allowed is 6MB/],
      [{ Image: 'no/such/image' }, 404, /No such image/],
    ];
    for (const [body, status, message] of cases) {
      const answer = await api('POST', '/v1.41/containers/create', body);
      expect([answer.status, answer.body['message']]).toEqual([status, expect.stringMatching(message)]);
    }
    expect((await daemon.docker.listContainers({ all: true })).length).toBe(0);
    expect((await docker('volume', 'ls', '-q')).stdout.trim()).toBe('');
    // `-v` still creates a missing host directory, as Docker does.
    const missing = join(root, 'made-by-v');
    await docker('run', '--rm', '-v', `${missing}:/m`, IMAGE, 'true');
    expect((await run('stat', ['-c', '%F', missing])).stdout).toBe('directory\n');
  });

  it('docker-compose 1.29 up, ps, run --rm, exec, logs, stop, start, down and down -v touch exactly what they name', async () => {
    const project = join(root, 'proj');
    mkdirSync(join(project, 'bind'), { recursive: true });
    writeFileSync(join(project, 'bind', 'x'), 'from-bind\n');
    writeFileSync(join(project, 'docker-compose.yml'), [
      "version: '2.4'",
      'services:',
      '  web:',
      `    image: ${IMAGE}`,
      "    command: sh -c 'echo started; echo started >> /data/log; exec sleep 300'",
      // The command is PID 1, as under Docker: a sleep ignores SIGTERM, so tini stands in front of it.
      '    init: true',
      '    network_mode: none',
      '    volumes: [named:/data, /anon, ./bind:/bind]',
      '    tmpfs: [/run]',
      '  side:',
      `    image: ${IMAGE}`,
      '    command: sleep 300',
      '    init: true',
      '    network_mode: none',
      '    volumes_from: [web]',
      'volumes:',
      '  named: {}',
      '',
    ].join('\n'));
    const compose = (...args: string[]) => run('docker-compose', ['-p', 'proj', ...args], { env: env(), cwd: project });
    await compose('up', '-d');
    const ps = (await compose('ps')).stdout;
    expect(ps.match(/proj_web_1/g)).toHaveLength(1);
    expect(ps.match(/proj_side_1/g)).toHaveLength(1);
    const web = await inspect('proj_web_1');
    const anon = web.Mounts.find((m) => m['Destination'] === '/anon')?.['Name'] as string;
    expect((await inspect('proj_side_1')).Mounts.map((m) => m['Destination']).sort()).toEqual(['/anon', '/bind', '/data']);

    // run --rm: a one-off container; the service's own container and its volumes stay.
    expect((await compose('run', '--rm', '-T', 'web', 'cat', '/data/log', '/bind/x')).stdout).toContain('started\nfrom-bind\n');
    expect((await inspect('proj_web_1')).State).toMatchObject({ Running: true });
    expect((await docker('volume', 'ls', '-q')).stdout.split('\n')).toContain(anon);
    expect((await compose('exec', '-T', 'web', 'cat', '/data/log')).stdout).toMatch(/^started\n/);
    expect((await compose('exec', '-T', 'side', 'cat', '/bind/x')).stdout).toBe('from-bind\n');
    await compose('stop');
    expect((await inspect('proj_web_1')).State).toMatchObject({ Running: false });
    await compose('start');
    expect((await inspect('proj_web_1')).State).toMatchObject({ Running: true });
    expect((await compose('logs', '--no-color', 'web')).stdout.match(/started/g)?.length).toBeGreaterThanOrEqual(1);

    await compose('down');
    expect((await daemon.docker.listContainers({ all: true })).length).toBe(0);
    const afterDown = (await docker('volume', 'ls', '-q')).stdout.split('\n');
    expect(afterDown).toContain('proj_named');
    await compose('up', '-d');
    await compose('down', '-v');
    expect((await daemon.docker.listContainers({ all: true })).length).toBe(0);
    expect((await docker('volume', 'ls', '-q')).stdout.split('\n')).not.toContain('proj_named');
  });
});
