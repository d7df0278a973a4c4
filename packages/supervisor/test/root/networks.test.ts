/**
 * Networks end to end through real clients: the docker CLI (network
 * commands, run -p, port, connect/disconnect live), docker-compose 1.29
 * (a web service fetched by service name and through a published port, the
 * volume kinds, exec and run --rm on the project's default network),
 * and a SIGKILL of the supervisor. Traffic goes only to loopback and to the
 * containers' own namespaces. Afterwards the host's iptables, links,
 * /run/netns and mount table are as before.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs tool without types
import { writeBusyboxImage } from '../../../../tools/busybox-image.mjs';
import { describeRoot, hostMountTable, hostNetworkState } from '@berth/testing';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const IMAGE = 'berth-test/busybox:latest';

/** GET / on the host's loopback with busybox nc (bounded); the body, or '' when nothing answered. */
async function fetchLoopback(port: number): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const r = await run('/bin/busybox', ['sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 2 127.0.0.1 ${port}`]).catch(() => ({ stdout: '' }));
    const body = r.stdout.split('\r\n\r\n')[1];
    if (body) return body;
    await sleep(100);
  }
  return '';
}

describeRoot('networks end to end (docker CLI, docker-compose, supervisor SIGKILL)', () => {
  let root: string;
  let socketPath: string;
  let daemon: ChildProcess;
  let mountsBefore: string;
  let networkBefore: ReturnType<typeof hostNetworkState>;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${socketPath}`, DOCKER_CONFIG: join(root, 'docker-config') });
  const docker = (...args: string[]): Promise<{ stdout: string; stderr: string }> => run('docker', args, { env: env(), timeout: 60_000 });
  const compose = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
    run('docker-compose', ['-p', 'bnt', ...args], { env: env(), cwd: join(root, 'project'), timeout: 120_000 });
  const fails = (p: Promise<unknown>): Promise<{ stderr: string }> => p.then(() => ({ stderr: 'it succeeded' }), (e: { stderr: string }) => e);

  async function startDaemon(): Promise<void> {
    const code = `import { runDaemon } from '@berth/supervisor';\nawait runDaemon({ root: ${JSON.stringify(root)}, socketPath: ${JSON.stringify(socketPath)} });\n`;
    daemon = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'inherit', 'inherit'], cwd: REPO });
    for (let i = 0; i < 200; i++) {
      if (existsSync(socketPath) && (await docker('version').then(() => true, () => false))) return;
      await sleep(50);
    }
    throw new Error('the supervisor did not come up');
  }

  async function stopDaemon(signal: NodeJS.Signals): Promise<void> {
    if (daemon.exitCode !== null || daemon.signalCode !== null) return;
    const gone = new Promise((r) => daemon.once('exit', r));
    daemon.kill(signal);
    await gone;
  }

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    networkBefore = hostNetworkState();
    root = mkdtempSync(join(tmpdir(), 'berth-net-e2e-'));
    socketPath = join(root, 'berth.sock');
    await startDaemon();
    // The full busybox (wget, nc, httpd, ip), as `docker save` writes it.
    await (writeBusyboxImage as (path: string, o: { tag: string }) => Promise<void>)(join(root, 'busybox.tar'), { tag: IMAGE });
    await docker('image', 'load', '-i', join(root, 'busybox.tar'));
  });

  afterAll(async () => {
    if (daemon) {
      // Whatever a failed test left: containers outlive the supervisor, so remove them through it.
      if (daemon.exitCode === null && daemon.signalCode === null) {
        if (existsSync(join(root, 'project'))) await compose('down', '-v').catch(() => undefined);
        const ids = (await docker('ps', '-a', '-q').catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
        if (ids.length > 0) await docker('rm', '-f', ...ids).catch(() => undefined);
        const nets = (await docker('network', 'ls', '-q', '--filter', 'type=custom').catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
        if (nets.length > 0) await docker('network', 'rm', ...nets).catch(() => undefined);
      }
      await stopDaemon('SIGTERM');
    }
    rmSync(root, { recursive: true, force: true });
    expect(hostNetworkState()).toEqual(networkBefore);
    expect(hostMountTable()).toBe(mountsBefore);
  });

  it('network create/ls/inspect/rm/prune with dockerd\'s shapes and errors', async () => {
    expect((await docker('network', 'ls', '--format', '{{.Name}} {{.Driver}}')).stdout.split('\n').sort().filter(Boolean)).toEqual(['bridge bridge', 'host host', 'none null']);
    await docker('network', 'create', '--subnet', '10.231.0.0/24', '--ip-range', '10.231.0.128/25', '--label', 'a=b', 'n1');
    const [n1] = JSON.parse((await docker('network', 'inspect', 'n1')).stdout) as Array<Record<string, unknown>>;
    expect(n1).toMatchObject({
      Name: 'n1', Driver: 'bridge', Scope: 'local', EnableIPv6: false, Internal: false, Attachable: false, Labels: { a: 'b' },
      IPAM: { Driver: 'default', Config: [{ Subnet: '10.231.0.0/24', IPRange: '10.231.0.128/25', Gateway: '10.231.0.1' }] },
    });
    expect((await fails(docker('network', 'create', 'n1'))).stderr).toContain('network with name n1 already exists');
    expect((await fails(docker('network', 'rm', 'bridge'))).stderr).toContain('bridge is a pre-defined network and cannot be removed');
    expect((await fails(docker('network', 'inspect', 'nosuch'))).stderr).toContain('network nosuch not found');
    // dockerd 20.10 creates the container and refuses its start.
    expect((await fails(docker('run', '--rm', '--network', 'nosuch', IMAGE, 'true'))).stderr).toContain('network nosuch not found');
    expect((await fails(docker('network', 'create', '--subnet', '10.231.0.0/25', 'n2'))).stderr).toContain('Pool overlaps with other one on this address space');
    expect((await docker('network', 'ls', '-q', '--filter', 'label=a=b')).stdout.trim()).toBe(String(n1!['Id']).slice(0, 12));
    await docker('network', 'create', '--label', 'keep', 'spare');
    expect((await docker('network', 'prune', '-f', '--filter', 'label!=keep')).stdout.trim()).toBe('Deleted Networks:\nn1');
    expect((await docker('network', 'prune', '-f')).stdout.trim()).toBe('Deleted Networks:\nspare');
    // Nothing left to prune: dockerd's null, not [] (the Python SDK hands it on as is).
    const none = await run('curl', ['-s', '-X', 'POST', '--unix-socket', socketPath, 'http://x/v1.41/networks/prune']);
    expect(JSON.parse(none.stdout)).toEqual({ NetworksDeleted: null });
    expect((await docker('network', 'ls', '--format', '{{.Name}}')).stdout.split('\n').filter(Boolean).sort()).toEqual(['bridge', 'host', 'none']);
  });

  it('run -p, port, DNS by name and alias, --ip, live connect and disconnect, 403 while in use', async () => {
    await docker('network', 'create', '--subnet', '10.231.0.0/24', '--ip-range', '10.231.0.128/25', 'n1');
    await docker('run', '-d', '--name', 'web', '--network', 'n1', '--network-alias', 'www', '--ip', '10.231.0.200', '-p', '127.0.0.1::80',
      IMAGE, 'sh', '-c', 'echo hello-web > /tmp/index.html; exec httpd -f -h /tmp');
    const port = (await docker('port', 'web', '80/tcp')).stdout.trim();
    expect(port).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await fetchLoopback(Number(port.split(':')[1]))).toBe('hello-web\n');
    const [web] = JSON.parse((await docker('inspect', 'web')).stdout) as Array<{ NetworkSettings: { Networks: Record<string, { IPAddress: string; Aliases: string[] }> } }>;
    expect(web!.NetworkSettings.Networks['n1']).toMatchObject({ IPAddress: '10.231.0.200', Aliases: ['www', expect.stringMatching(/^[0-9a-f]{12}$/)] });
    for (const name of ['web', 'www']) {
      expect((await docker('run', '--rm', '--network', 'n1', IMAGE, 'wget', '-qO-', `http://${name}/`)).stdout).toBe('hello-web\n');
    }
    const hosts = (await docker('run', '--rm', '--network', 'n1', '--add-host', 'extra:10.1.2.3', '--hostname', 'h1', IMAGE, 'cat', '/etc/hosts', '/etc/resolv.conf', '/etc/hostname')).stdout;
    expect(hosts).toMatch(/^127\.0\.0\.1\tlocalhost\n[^]*10\.1\.2\.3\textra\n10\.231\.0\.\d+\th1\nnameserver 10\.231\.0\.1\n[^]*h1\n$/);
    expect((await fails(docker('network', 'rm', 'n1'))).stderr).toContain('has active endpoints');

    await docker('network', 'create', 'n2');
    await docker('network', 'connect', '--alias', 'side', 'n2', 'web');
    expect((await docker('exec', 'web', 'ip', '-o', '-4', 'addr', 'show', 'eth1')).stdout).toContain('inet ');
    expect((await docker('run', '--rm', '--network', 'n2', IMAGE, 'wget', '-qO-', 'http://side/')).stdout).toBe('hello-web\n');
    await docker('network', 'disconnect', 'n2', 'web');
    expect((await fails(docker('exec', 'web', 'ip', '-o', '-4', 'addr', 'show', 'eth1'))).stderr).not.toBe('it succeeded');

    // A created, not yet started container connected to a second network gets both at start.
    await docker('create', '--name', 'cr', '--network', 'n1', IMAGE, 'sleep', '60');
    await docker('network', 'connect', 'n2', 'cr');
    await docker('start', 'cr');
    const addrs = (await docker('exec', 'cr', 'ip', '-o', '-4', 'addr')).stdout;
    expect([...addrs.matchAll(/^\d+: (eth\d) /gm)].map((m) => m[1]).sort()).toEqual(['eth0', 'eth1']);
    await docker('rm', '-f', 'web', 'cr');
    await docker('network', 'rm', 'n1', 'n2');
  });

  it('the default bridge: no DNS, the host\'s resolv.conf, a 172.x address', async () => {
    const out = (await docker('run', '--rm', IMAGE, 'sh', '-c', 'ip -o -4 addr show eth0; cat /etc/resolv.conf')).stdout;
    expect(out).toMatch(/inet (172\.\d+|192\.168)\.\d+\.\d+\/(16|20) /);
    expect(out).not.toMatch(/nameserver 172\./);
  });

  it('--link on the default bridge: hosts entry and dockerd\'s link variables, before the container\'s own Env', async () => {
    await docker('run', '-d', '--name', 'lk-web', '--expose', '80', '-e', 'FOO=bar', IMAGE, 'sleep', '300');
    const ip = (await docker('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'lk-web')).stdout.trim();
    // `env` itself as the command: it prints the environment in its order (a shell would reorder it).
    const env = (await docker('run', '--rm', '--name', 'lk-client', '--link', 'lk-web:my-web', '-e', 'MY_WEB_ENV_FOO=mine', IMAGE, 'env'))
      .stdout.split('\n').filter((l) => l.startsWith('MY_WEB_'));
    expect(env).toEqual([
      `MY_WEB_PORT=tcp://${ip}:80`, `MY_WEB_PORT_80_TCP=tcp://${ip}:80`, `MY_WEB_PORT_80_TCP_ADDR=${ip}`, 'MY_WEB_PORT_80_TCP_PORT=80',
      'MY_WEB_PORT_80_TCP_PROTO=tcp', 'MY_WEB_NAME=/lk-client/my-web', 'MY_WEB_ENV_FOO=mine',
    ]);
    const hosts = (await docker('run', '--rm', '--link', 'lk-web:my-web', IMAGE, 'cat', '/etc/hosts')).stdout.split('\n');
    expect(hosts.some((l) => l.startsWith(`${ip}\tmy-web `))).toBe(true);
    // An exec gets them too (dockerd computes them again for it).
    await docker('run', '-d', '--name', 'lk-c2', '--link', 'lk-web:my-web', IMAGE, 'sleep', '300');
    expect((await docker('exec', 'lk-c2', 'env')).stdout.split('\n').filter((l) => l.startsWith('MY_WEB_'))).toEqual([
      `MY_WEB_PORT=tcp://${ip}:80`, `MY_WEB_PORT_80_TCP=tcp://${ip}:80`, `MY_WEB_PORT_80_TCP_ADDR=${ip}`, 'MY_WEB_PORT_80_TCP_PORT=80',
      'MY_WEB_PORT_80_TCP_PROTO=tcp', 'MY_WEB_NAME=/lk-c2/my-web', 'MY_WEB_ENV_FOO=bar',
    ]);
    await docker('rm', '-f', 'lk-c2');
    await docker('rm', '-f', 'lk-web');
  });

  it('docker-compose 1.29 on its default network: web by service name, published port, the volume kinds, exec, run --rm, down -v', async () => {
    const project = join(root, 'project');
    mkdirSync(join(project, 'bind'), { recursive: true });
    writeFileSync(join(project, 'bind', 'x'), 'from-bind\n');
    writeFileSync(join(project, 'docker-compose.yml'), [
      'version: "3.7"',
      'services:',
      '  web:',
      `    image: ${IMAGE}`,
      "    command: sh -c 'echo hello-compose > /www/index.html; echo anon > /anon/a; exec httpd -f -h /www'",
      '    ports: ["127.0.0.1::80"]',
      '    volumes: [www:/www, /anon, ./bind:/bind]',
      '    tmpfs: [/run]',
      '  client:',
      `    image: ${IMAGE}`,
      "    command: sh -c 'until wget -qO- http://web/; do sleep 0.2; done; exec sleep 60'",
      '    volumes_from: [web]',
      '    depends_on: [web]',
      'volumes:',
      '  www: {}',
      '',
    ].join('\n'));
    await compose('up', '-d');
    expect((await compose('ps')).stdout).toMatch(/bnt_web_1 .* Up/);
    expect((await compose('port', 'web', '80')).stdout.trim()).toMatch(/^127\.0\.0\.1:\d+$/);
    const port = (await docker('port', 'bnt_web_1', '80')).stdout.trim();
    expect(await fetchLoopback(Number(port.split(':')[1]))).toBe('hello-compose\n');
    const exec = await compose('exec', '-T', 'client', 'wget', '-qO-', 'http://web/').catch((e: { stdout: string; stderr: string }) => e);
    expect(exec.stdout, exec.stderr).toBe('hello-compose\n');
    // volumes_from: the client sees web's named, anonymous and bind volumes (not its tmpfs).
    expect((await compose('exec', '-T', 'client', 'cat', '/www/index.html', '/anon/a', '/bind/x')).stdout).toBe('hello-compose\nanon\nfrom-bind\n');
    expect((await compose('exec', '-T', 'web', 'sh', '-c', 'grep " /run " /proc/mounts | cut -d" " -f3')).stdout.trim()).toBe('tmpfs');
    // One-off containers on the project network, attached, removed after: twice (compose numbers them).
    for (let i = 0; i < 2; i++) {
      expect((await compose('run', '--rm', '-T', 'client', 'wget', '-qO-', 'http://web/')).stdout).toBe('hello-compose\n');
    }
    expect((await docker('ps', '-a', '--format', '{{.Names}}')).stdout.split('\n').filter((n) => n.includes('_run_'))).toEqual([]);
    await compose('down', '-v');
    expect((await docker('ps', '-a', '-q')).stdout.trim()).toBe('');
    expect((await docker('network', 'ls', '--format', '{{.Name}}')).stdout).not.toContain('bnt_default');
    expect((await docker('volume', 'ls', '-q')).stdout.trim()).toBe('');
  }, 240_000);

  it('after a SIGKILL of the supervisor: running containers keep their address, gone ones are torn down', async () => {
    await docker('network', 'create', 'k1');
    await docker('run', '-d', '--name', 'keep', '--network', 'k1', '-p', '127.0.0.1::80', IMAGE, 'sh', '-c', 'echo kept > /tmp/index.html; exec httpd -f -h /tmp');
    const id = (await docker('run', '-d', '--name', 'gone', '--network', 'k1', '-p', '127.0.0.1::80', IMAGE, 'sleep', '300')).stdout.trim();
    const keepIp = (await docker('inspect', '-f', '{{.NetworkSettings.Networks.k1.IPAddress}}', 'keep')).stdout.trim();
    const gonePort = (await docker('port', 'gone', '80')).stdout.trim().split(':')[1]!;
    const natBefore = hostNetworkState().nat;
    expect(natBefore).toContain(`--dport ${gonePort} `);

    await stopDaemon('SIGKILL');
    // The container exits while no supervisor runs: its namespace goes with it, netavark's rules stay.
    // Its shim killed: the container goes with it (the stub's parent-death signal), as an exit would.
    const shim = (await run('pgrep', ['-f', `^berth-shim ${id}`])).stdout.trim();
    process.kill(Number(shim), 'SIGKILL');
    await sleep(200);
    expect(hostNetworkState().nat).toContain(`--dport ${gonePort} `);
    // Its namespace outlives it and the supervisor: held by the holder process its launch started.
    const holder = (await run('pgrep', ['-f', `^berth-netns ${id}`])).stdout.trim();
    expect(holder).toMatch(/^\d+$/);
    await startDaemon();

    for (let i = 0; i < 100 && hostNetworkState().nat.includes(`--dport ${gonePort} `); i++) await sleep(100);
    expect(hostNetworkState().nat).not.toContain(`--dport ${gonePort} `);
    // Torn down through it, then ended (just after netavark's teardown returns).
    for (let i = 0; i < 50 && existsSync(`/proc/${holder}`); i++) await sleep(100);
    expect(existsSync(`/proc/${holder}`)).toBe(false);
    expect((await docker('inspect', '-f', '{{.NetworkSettings.Networks.k1.IPAddress}}', 'keep')).stdout.trim()).toBe(keepIp);
    const keepPort = (await docker('port', 'keep', '80')).stdout.trim().split(':')[1]!;
    expect(await fetchLoopback(Number(keepPort))).toBe('kept\n');
    await docker('rm', '-f', 'keep', 'gone');
    await docker('network', 'rm', 'k1');
    // Every launch's holder went with its teardown.
    expect((await run('pgrep', ['-f', '^berth-netns ']).catch(() => ({ stdout: '' }))).stdout.trim()).toBe('');
  });
});
