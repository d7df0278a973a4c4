import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  NetworkStore, choosePool, filterNetworks, formatCidr, hostRoutes, hostsFile, isNetworkError, netavarkConfig, networkShape,
  parseCidr, pruneCandidates, resolvConf, resolveNetworking, wantedPorts, portsShape, type Cidr,
} from '../../src/index.js';

let root: string;
let routes: Cidr[];
let store: NetworkStore;
const C1 = 'a'.repeat(64);
const C2 = 'b'.repeat(64);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'berth-net-'));
  routes = [];
  store = NetworkStore.open(root, { hostRoutes: () => routes, hostPortsInUse: (protocol) => new Set(protocol === 'tcp' ? [32768] : []) });
});
afterEach(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

describe('IPAM', () => {
  it('takes Docker default pools in order, skipping host routes and other networks', () => {
    expect(formatCidr(choosePool([])!)).toBe('172.17.0.0/16');
    expect(formatCidr(choosePool([parseCidr('172.17.0.0/16'), parseCidr('172.18.5.0/24')])!)).toBe('172.19.0.0/16');
    const all = Array.from({ length: 15 }, (_, i) => parseCidr(`172.${17 + i}.0.0/16`));
    expect(formatCidr(choosePool(all)!)).toBe('192.168.0.0/20');
    expect(formatCidr(choosePool([...all, parseCidr('192.168.0.0/20')])!)).toBe('192.168.16.0/20');
  });

  it('reads /proc/net/route, without the default route', () => {
    const text = 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n'
      + 'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n'
      + 'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\n';
    expect(hostRoutes(text).map(formatCidr)).toEqual(['172.17.0.0/16']);
  });

  it('gives the default bridge the first free pool, and a new network the next', () => {
    expect(store.resolve('bridge').ipamConfig).toEqual([{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }]);
    routes.push(parseCidr('172.18.0.0/16'));
    const { id } = store.create({ Name: 'app', CheckDuplicate: true });
    expect(store.resolve(id).ipamConfig).toEqual([{ Subnet: '172.19.0.0/16', Gateway: '172.19.0.1' }]);
  });

  it('allocates the lowest free address of the range, never the gateway, and frees it on release', () => {
    store.create({ Name: 'r', IPAM: { Config: [{ Subnet: '10.9.0.0/24', IPRange: '10.9.0.128/25', Gateway: '10.9.0.129' }] } });
    store.connect(C1, 'one', 'r');
    store.connect(C2, 'two', 'r');
    expect(store.allocate(C1)[0]).toMatchObject({ ipAddress: '10.9.0.128', prefixLen: 24, gateway: '10.9.0.129', macAddress: '02:42:0a:09:00:80' });
    expect(store.allocate(C2)[0]!.ipAddress).toBe('10.9.0.130');
    store.release(C1);
    expect(store.endpointsOf(C1)[0]!.ipAddress).toBe('');
    expect(store.allocate(C1)[0]!.ipAddress).toBe('10.9.0.128');
  });

  it('honours --ip on a user subnet and refuses it elsewhere with Docker\'s text', () => {
    store.create({ Name: 'fixed', IPAM: { Config: [{ Subnet: '10.8.0.0/24' }] } });
    store.connect(C1, 'one', 'fixed', { IPAMConfig: { IPv4Address: '10.8.0.77' } });
    expect(store.allocate(C1)[0]!.ipAddress).toBe('10.8.0.77');
    store.create({ Name: 'auto' });
    expect(() => store.connect(C1, 'one', 'auto', { IPAMConfig: { IPv4Address: '172.18.0.9' } })).toThrow(
      'user specified IP address is supported only when connecting to networks with user configured subnets',
    );
    store.connect(C2, 'two', 'fixed', { IPAMConfig: { IPv4Address: '10.8.0.77' } });
    expect(() => store.allocate(C2)).toThrow(/Address already in use/);
  });
});

describe('refusals, with dockerd 20.10\'s texts and codes', () => {
  const refused = (fn: () => unknown, code: string, message: string | RegExp): void => {
    let error: unknown;
    try { fn(); } catch (e) { error = e; }
    expect(isNetworkError(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    expect((error as Error).message).toMatch(message);
  };

  it('refuses names, drivers, overlaps and removals as Docker does', () => {
    store.create({ Name: 'app', IPAM: { Config: [{ Subnet: '10.99.0.0/24' }] } });
    refused(() => store.create({ Name: 'app', CheckDuplicate: true }), 'AlreadyExists', 'network with name app already exists');
    refused(() => store.create({ Name: 'app', CheckDuplicate: false }), 'AlreadyExists', 'network with name app already exists');
    refused(() => store.resolve('nosuch'), 'NotFound', 'network nosuch not found');
    refused(() => store.create({ Name: '' }), 'InvalidParameter', 'invalid name: ');
    refused(() => store.create({ Name: 'host' }), 'Forbidden', 'operation is not permitted on predefined host network ');
    refused(() => store.create({ Name: 'x', Driver: 'foo' }), 'NotFound', 'plugin "foo" not found');
    refused(() => store.create({ Name: 'x', Driver: 'macvlan' }), 'NotImplemented', /macvlan/);
    refused(() => store.create({ Name: 'x', EnableIPv6: true }), 'NotImplemented', /IPv6/);
    refused(() => store.create({ Name: 'x', Options: { 'com.example.opt': '1' } }), 'NotImplemented', /com\.example\.opt/);
    refused(() => store.create({ Name: 'x', IPAM: { Config: [{ Subnet: '10.99.0.0/25' }] } }), 'Forbidden', 'Pool overlaps with other one on this address space');
    refused(() => store.create({ Name: 'x', IPAM: { Config: [{ Subnet: 'bogus' }] } }), 'InvalidParameter', 'Invalid subnet bogus : invalid CIDR address: bogus');
    refused(() => store.create({ Name: 'x', IPAM: { Config: [{ Subnet: '10.98.0.0/24', Gateway: '10.97.0.1' }] } }), 'InvalidParameter',
      'failed to allocate gateway (10.97.0.1): Requested address is out of range');
    refused(() => store.remove('bridge'), 'Forbidden', 'bridge is a pre-defined network and cannot be removed');
    refused(() => store.connect(C1, 'one', 'host'), 'InvalidParameter', 'container cannot be disconnected from host network or connected to host network');
    const { id } = store.create({ Name: 'busy' });
    store.connect(C1, 'one', 'busy');
    refused(() => store.connect(C1, 'one', 'busy'), 'Forbidden', 'endpoint with name one already exists in network busy');
    refused(() => store.remove('busy'), 'Forbidden', `error while removing network: network busy id ${id} has active endpoints`);
    refused(() => store.disconnect(C2, 'busy'), 'Conflict', `container ${C2} is not connected to network busy`);
    store.disconnect(C1, 'busy');
    expect(store.remove('busy').id).toBe(id);
  });

  it('keeps everything across a reopen (SQLite), predefined networks made once', () => {
    const { id } = store.create({ Name: 'kept', Labels: { a: 'b' } });
    store.connect(C1, 'one', 'kept', { Aliases: ['web'] });
    store.allocate(C1);
    store.close();
    store = NetworkStore.open(root, { hostRoutes: () => routes });
    expect(store.list().map((n) => n.name)).toEqual(['bridge', 'host', 'none', 'kept']);
    expect(store.endpointsOf(C1)[0]).toMatchObject({ networkId: id, aliases: ['web'], ipAddress: '172.18.0.2' });
  });
});

describe('filters, shapes and files', () => {
  it('filters like dockerd: type, dangling, label, name, driver', () => {
    store.create({ Name: 'front', Labels: { tier: 'web' } });
    const { id } = store.create({ Name: 'back' });
    store.connect(C1, 'one', 'back');
    const inUse = (nid: string): boolean => store.endpointsOn(nid).length > 0;
    const names = (f: Record<string, string[]>): string[] => filterNetworks(store.list(), f, inUse).map((n) => n.name);
    expect(names({ type: ['custom'] })).toEqual(['front', 'back']);
    expect(names({ type: ['builtin'] })).toEqual(['bridge', 'host', 'none']);
    expect(names({ dangling: ['true'] })).toEqual(['front']);
    expect(names({ label: ['tier=web'] })).toEqual(['front']);
    expect(names({ name: ['ack'], driver: ['bridge'] })).toEqual(['back']);
    expect(names({ driver: ['null'] })).toEqual(['none']);
    expect(names({ id: [id.slice(0, 6)] })).toEqual(['back']);
    expect(() => names({ type: ['x'] })).toThrow("invalid filter: 'type'='x'");
    expect(() => names({ bogus: ['x'] })).toThrow("invalid filter 'bogus'");
    expect(pruneCandidates(store.list(), {}, inUse).map((n) => n.name)).toEqual(['front']);
    expect(pruneCandidates(store.list(), { 'label!': ['tier'] }, inUse)).toEqual([]);
  });

  it('shows a network and netavark\'s config from the records', () => {
    store.create({ Name: 'app', IPAM: { Config: [{ Subnet: '10.7.0.0/24' }] } });
    store.connect(C1, 'web', 'app', { Aliases: ['svc'] });
    store.allocate(C1);
    const n = store.resolve('app');
    const ep = store.setActive(C1, n.id, true);
    expect(networkShape(n, store.endpointsOn(n.id))).toMatchObject({
      Name: 'app', Driver: 'bridge', Scope: 'local', IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '10.7.0.0/24', Gateway: '10.7.0.1' }] },
      Containers: { [C1]: { Name: 'web', IPv4Address: '10.7.0.2/24', MacAddress: '02:42:0a:07:00:02', IPv6Address: '' } },
    });
    expect(netavarkConfig({ containerId: C1, containerName: 'web', network: n, endpoint: ep, ports: [] })).toMatchObject({
      networks: { app: { static_ips: ['10.7.0.2'], static_mac: '02:42:0a:07:00:02', aliases: ['svc', C1.slice(0, 12)], interface_name: 'eth0' } },
      network_info: { app: { network_interface: n.bridgeName, subnets: [{ subnet: '10.7.0.0/24', gateway: '10.7.0.1' }], dns_enabled: true } },
    });
  });

  it('publishes ports as Docker: given ports, then free ephemeral ones for -P', () => {
    const wanted = wantedPorts({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }], '53/udp': [{ HostIp: '', HostPort: '' }] }, true, { '80/tcp': {}, '443/tcp': {} });
    const ports = store.allocatePorts(C1, wanted);
    expect(ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`)).toEqual([
      '127.0.0.1:18080->80/tcp', ':32768->53/udp', ':32769->443/tcp',
    ]);
    expect(() => store.allocatePorts(C2, [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 18080 }])).toThrow(/port is already allocated/);
    expect(portsShape({ '80/tcp': {}, '443/tcp': {}, '9/tcp': {} }, ports)).toEqual({
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }], '443/tcp': [{ HostIp: '0.0.0.0', HostPort: '32769' }],
      '9/tcp': null, '53/udp': [{ HostIp: '0.0.0.0', HostPort: '32768' }],
    });
  });

  it('writes /etc/hosts and resolv.conf as Docker does', () => {
    expect(hostsFile({ hostname: 'c9cd29c571c0', addresses: ['172.17.0.4'], extraHosts: [{ name: 'foo', ip: '1.2.3.4' }] })).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n'
      + 'ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n1.2.3.4\tfoo\n172.17.0.4\tc9cd29c571c0\n',
    );
    const host = 'nameserver 10.255.255.53\nnameserver 127.0.0.53\nsearch example.org\n';
    expect(resolvConf({ host, networkDns: [] })).toBe('search example.org\nnameserver 10.255.255.53\n');
    expect(resolvConf({ host, networkDns: ['10.7.0.1'] })).toBe('search example.org\nnameserver 10.7.0.1\n');
    expect(resolvConf({ host, networkDns: [], dns: ['9.9.9.9'], dnsSearch: ['a.b'], dnsOptions: ['ndots:2'] })).toBe('search a.b\nnameserver 9.9.9.9\noptions ndots:2\n');
  });

  it('resolves a create request\'s network fields once', () => {
    expect(resolveNetworking({ Config: {}, HostConfig: { NetworkMode: 'default' } })).toMatchObject({ mode: 'bridge', networks: [{ name: 'bridge' }] });
    expect(resolveNetworking({
      Config: { MacAddress: '02:00:00:00:00:01' }, HostConfig: { NetworkMode: 'proj_default' },
      NetworkingConfig: { EndpointsConfig: { proj_default: { Aliases: ['web'] } } },
    }).networks).toEqual([{ name: 'proj_default', endpoint: { Aliases: ['web'], MacAddress: '02:00:00:00:00:01' } }]);
    expect(resolveNetworking({ Config: {}, HostConfig: { NetworkMode: 'container:abc' } })).toMatchObject({ mode: 'container', container: 'abc' });
    expect(resolveNetworking({
      Config: {}, HostConfig: { NetworkMode: 'front' }, NetworkingConfig: { EndpointsConfig: { back: { Aliases: ['b'] }, front: {} } },
    }).networks.map((n) => n.name)).toEqual(['front', 'back']);
    expect(() => resolveNetworking({ Config: {}, HostConfig: { NetworkMode: 'host' }, NetworkingConfig: { EndpointsConfig: { back: {} } } })).toThrow(
      'container cannot be disconnected from host network or connected to host network',
    );
    expect(() => resolveNetworking({ Config: {}, HostConfig: { NetworkMode: 'container:abc', PortBindings: { '80/tcp': [{}] } } })).toThrow(
      'conflicting options: port publishing and the container type network mode',
    );
    expect(() => resolveNetworking({ Config: {}, HostConfig: { NetworkMode: 'bridge' }, NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ['x'] } } } })).toThrow(
      'network-scoped alias is supported only for containers in user defined networks',
    );
    expect(resolveNetworking({ Config: {}, HostConfig: { NetworkMode: 'host', PortBindings: { '80/tcp': [{}] } } }).warnings).toEqual(['Published ports are discarded when using host network mode']);
  });
});
