import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FreshNamespace, NetworkAttachments, NetworkStore, removeIdleNetavarkChains, wantedPorts } from '../../src/index.js';
import { describeRoot, hostMountTable, hostNetworkState } from '@berth/testing';

const BUSYBOX = '/bin/busybox';
const WEB = '1'.repeat(64);
const CLIENT = '2'.repeat(64);

function inNs(ns: FreshNamespace, args: string[]): { status: number | null; out: string } {
  const r = spawnSync('nsenter', [`--net=${ns.path}`, '--', ...args], { encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** An HTTP GET with busybox nc (busybox wget crashes on a timeout); the body, or '' when it failed. */
function httpGet(args: string[], host: string, port: number): string {
  const argv = [...args, BUSYBOX, 'nc', '-w', '2', host, String(port)];
  const r = spawnSync(argv[0]!, argv.slice(1), {
    input: 'GET / HTTP/1.0\r\n\r\n', encoding: 'utf8', timeout: 10_000,
  });
  const body = r.stdout.split('\r\n\r\n')[1];
  return body ?? '';
}

function aardvarkPids(configDir: string): string[] {
  const r = spawnSync('pgrep', ['-f', `aardvark-dns --config ${configDir}`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l !== '');
}

describeRoot('networks on netavark (namespaces made by the test)', () => {
  let root: string;
  let store: NetworkStore;
  let nets: NetworkAttachments;
  let before: ReturnType<typeof hostNetworkState>;
  let mounts: string;
  const holders: FreshNamespace[] = [];
  let httpd: ChildProcess | undefined;

  beforeAll(() => {
    before = hostNetworkState();
    mounts = hostMountTable();
    root = mkdtempSync(join(tmpdir(), 'berth-netavark-'));
    store = NetworkStore.open(root);
    nets = new NetworkAttachments(store, { configDir: join(root, 'netavark') });
  });

  afterAll(async () => {
    httpd?.kill('SIGKILL');
    for (const h of holders) h.close();
    // Whatever a failed assertion left: torn down from fresh namespaces.
    await nets.reconcile(new Set(), () => undefined).catch(() => undefined);
    removeIdleNetavarkChains();
    store.close();
    rmSync(root, { recursive: true, force: true });
    expect(hostNetworkState()).toEqual(before);
    expect(hostMountTable()).toBe(mounts);
    expect(aardvarkPids(join(root, 'netavark'))).toEqual([]);
  });

  it('connects two namespaces by name, publishes a port on loopback, and leaves nothing behind', async () => {
    const { id } = store.create({ Name: 'berth-test-app', CheckDuplicate: true });
    const web = await FreshNamespace.open();
    const client = await FreshNamespace.open();
    holders.push(web, client);
    store.connect(WEB, 'web', id, { Aliases: ['svc'] });
    store.connect(CLIENT, 'client', id);

    const docroot = join(root, 'www');
    mkdirSync(docroot);
    writeFileSync(join(docroot, 'index.html'), 'hello from web\n');
    httpd = spawn('nsenter', [`--net=${web.path}`, '--', BUSYBOX, 'httpd', '-f', '-p', '80', '-h', docroot], { stdio: 'ignore' });

    const webAttached = await nets.attach(WEB, 'web', web.path, wantedPorts({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, false, {}));
    await nets.attach(CLIENT, 'client', client.path);
    const webIp = webAttached.endpoints[0]!.ipAddress;
    const gateway = webAttached.endpoints[0]!.gateway;
    expect(webAttached.dnsServers).toEqual([gateway]);
    expect(inNs(web, ['ip', '-o', '-4', 'addr', 'show', 'eth0']).out).toContain(`${webIp}/`);
    expect(inNs(web, ['ip', '-o', 'link', 'show', 'eth0']).out).toContain(`link/ether ${webAttached.endpoints[0]!.macAddress} `);

    // aardvark-dns on the gateway answers the container's name, alias and short id.
    for (const name of ['web', 'svc', WEB.slice(0, 12)]) {
      const r = inNs(client, [BUSYBOX, 'nslookup', name, gateway]);
      expect(r.out, name).toContain(webIp);
    }
    // Container to container, and the published port from the host's loopback.
    const inClient = ['nsenter', `--net=${client.path}`, '--'];
    let fetched = '';
    // httpd may still be starting: a few tries, bounded.
    for (let i = 0; i < 20 && fetched === ''; i++) {
      fetched = httpGet(inClient, webIp, 80);
      if (fetched === '') await new Promise((r) => setTimeout(r, 100));
    }
    expect(fetched).toBe('hello from web\n');
    const port = webAttached.ports[0]!.hostPort;
    expect(httpGet([], '127.0.0.1', port)).toBe('hello from web\n');
    expect(hostNetworkState().links).toContain(store.resolve(id).bridgeName);

    // The web container's namespace stays until its teardown.
    await nets.detach(WEB, 'web', web.path);
    httpd.kill('SIGKILL');
    expect(store.endpointsOf(WEB)[0]).toMatchObject({ ipAddress: '', active: false });
    expect(store.portsOf(WEB)).toEqual([]);

    // The client's namespace disappears first (a supervisor killed, a container gone): a fresh namespace tears it down.
    client.close();
    await nets.reconcile(new Set([WEB]), () => 'client');
    expect(store.endpointsOf(CLIENT)[0]).toMatchObject({ ipAddress: '', active: false });
    expect(hostNetworkState().links).not.toContain(store.resolve(id).bridgeName);
    expect(aardvarkPids(join(root, 'netavark'))).toEqual([]);
    store.disconnect(WEB, id);
    store.disconnect(CLIENT, id);
    store.remove(id);
    removeIdleNetavarkChains();
    expect(hostNetworkState()).toEqual(before);
  });

  it('setups and teardowns on one network at once do not race (netavark 1.4 takes no lock; berth runs one call at a time)', async () => {
    const { id } = store.create({ Name: 'berth-test-race', CheckDuplicate: true });
    const ids = ['3', '4', '5', '6'].map((c) => c.repeat(64));
    const spaces = await Promise.all(ids.map(() => FreshNamespace.open()));
    holders.push(...spaces);
    for (const [i, cid] of ids.entries()) store.connect(cid, `race${i}`, id);
    const attach = (i: number) => nets.attach(ids[i]!, `race${i}`, spaces[i]!.path);
    const detach = (i: number) => nets.detach(ids[i]!, `race${i}`, spaces[i]!.path);
    // Each round tears down the network's last endpoints while others are set up: the
    // teardown that empties the bridge deletes the network's chains under a setup's feet.
    await Promise.all([attach(0), attach(1)]);
    for (let round = 0; round < 3; round++) {
      const [gone, next] = round % 2 === 0 ? [[0, 1], [2, 3]] : [[2, 3], [0, 1]];
      await Promise.all([...gone.map(detach), ...next.map(attach)]);
    }
    const last = [2, 3];
    await Promise.all(last.map(detach));
    for (const cid of ids) store.disconnect(cid, id);
    store.remove(id);
    await nets.netavark.removeIdleChains();
    expect(hostNetworkState()).toEqual(before);
  });
});
