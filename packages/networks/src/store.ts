import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  AddressExhaustedError, AmbiguousNetworkError, EndpointExistsError, InvalidNetworkConfigError, NetworkError,
  NetworkExistsError, NetworkInUseError, NetworkNotFoundError, NetworkNotImplementedError, NotConnectedError,
  PoolOverlapError, PredefinedNetworkError,
} from './errors.js';
import {
  choosePool, contains, formatCidr, formatIPv4, hostRoutes, macForAddress, nextFreeAddress, overlaps, parseCidr, parseIPv4,
  type Cidr, type ResolvedPool,
} from './ipam.js';
import type {
  CreateNetworkRequest, EndpointRecord, EndpointRequest, IpamConfigEntry, NetworkDriver, NetworkRecord, PortMapping,
} from './types.js';

/** Append, never edit: a released database has already run the old ones (`PRAGMA user_version` counts them). */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE networks (
     id           TEXT PRIMARY KEY,
     name         TEXT NOT NULL,
     driver       TEXT NOT NULL,
     created      TEXT NOT NULL,
     internal     INTEGER NOT NULL,
     attachable   INTEGER NOT NULL,
     labels       TEXT NOT NULL,   -- JSON object
     options      TEXT NOT NULL,   -- JSON object
     ipam_options TEXT,            -- JSON object or NULL
     ipam_config  TEXT NOT NULL,   -- JSON array of resolved IpamConfigEntry
     user_subnet  INTEGER NOT NULL,
     bridge_name  TEXT NOT NULL,
     dns          INTEGER NOT NULL,
     predefined   INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX networks_by_name ON networks(name);
   CREATE TABLE endpoints (
     network        TEXT NOT NULL REFERENCES networks(id),
     container      TEXT NOT NULL,
     container_name TEXT NOT NULL,
     endpoint_id    TEXT NOT NULL,
     requested_ip   TEXT NOT NULL,
     ip             TEXT NOT NULL,   -- '' while the container does not run
     prefix_len     INTEGER NOT NULL,
     gateway        TEXT NOT NULL,
     mac            TEXT NOT NULL,
     requested_mac  TEXT NOT NULL,
     aliases        TEXT NOT NULL,   -- JSON array
     links          TEXT NOT NULL,   -- JSON array
     active         INTEGER NOT NULL,
     iface          TEXT NOT NULL,   -- eth0, eth1...: fixed at setup, needed again at teardown
     PRIMARY KEY (network, container)
   );  -- rowid order is connect order: the first endpoint is the container's primary one
   CREATE UNIQUE INDEX endpoints_ip ON endpoints(network, ip) WHERE ip <> '';
   CREATE INDEX endpoints_by_container ON endpoints(container);
   CREATE TABLE ports (
     container      TEXT NOT NULL,
     container_port INTEGER NOT NULL,
     protocol       TEXT NOT NULL,
     host_ip        TEXT NOT NULL,
     host_port      INTEGER NOT NULL
   );
   CREATE INDEX ports_by_container ON ports(container);`,
  // The process that holds a bridge container's network namespace (pid + start time), so a
  // supervisor killed while the container exits can still tear the namespace down.
  `CREATE TABLE netns_holders (
     container  TEXT PRIMARY KEY,
     pid        INTEGER NOT NULL,
     start_time INTEGER NOT NULL
   ) WITHOUT ROWID;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

interface NetworkRow {
  id: string; name: string; driver: string; created: string; internal: number; attachable: number; labels: string;
  options: string; ipam_options: string | null; ipam_config: string; user_subnet: number; bridge_name: string; dns: number;
  predefined: number;
}

interface EndpointRow {
  network: string; container: string; container_name: string; endpoint_id: string; requested_ip: string; ip: string;
  prefix_len: number; gateway: string; mac: string; requested_mac: string; aliases: string; links: string; active: number; iface: string;
}

const SUPPORTED_DRIVERS = new Set(['bridge']);
const DOCKER_DRIVERS_NOT_HERE = new Set(['overlay', 'macvlan', 'ipvlan']);
/** Bridge options berth applies (through netavark); any other is refused. */
const BRIDGE_OPTIONS = new Set([
  'com.docker.network.bridge.name',
  'com.docker.network.driver.mtu',
  'com.docker.network.bridge.enable_icc',
  'com.docker.network.bridge.enable_ip_masquerade',
]);
/** Where Docker's ephemeral host ports come from (net.ipv4.ip_local_port_range's default). */
const EPHEMERAL_PORTS = { first: 32768, last: 60999 };

export interface NetworkStoreOptions {
  /** The host's IPv4 routes; default pools overlapping one are skipped (default: `/proc/net/route`). */
  hostRoutes?: () => Cidr[];
  /** Host ports in use by other programs, per protocol (default: `/proc/net/{tcp,udp}`). */
  hostPortsInUse?: (protocol: 'tcp' | 'udp') => Set<number>;
}

/**
 * Networks, endpoints and published ports in SQLite, next to the rest of
 * berth's state (`<root>/networks.db`). Every multi-step change is one
 * transaction. Holds no kernel state: netavark applies what it records.
 */
export class NetworkStore {
  readonly #db: Database.Database;
  readonly #routes: () => Cidr[];
  readonly #portsInUse: (protocol: 'tcp' | 'udp') => Set<number>;

  private constructor(db: Database.Database, options: NetworkStoreOptions) {
    this.#db = db;
    this.#routes = options.hostRoutes ?? (() => hostRoutes(readOr('/proc/net/route')));
    this.#portsInUse = options.hostPortsInUse ?? listeningPorts;
  }

  static open(root: string, options: NetworkStoreOptions = {}): NetworkStore {
    let db: Database.Database;
    try {
      db = new Database(join(root, 'networks.db'), { timeout: 10_000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.transaction(() => {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version > MIGRATIONS.length) {
          throw new NetworkError('Metadata', `network metadata has schema version ${version}, newer than this berth (${MIGRATIONS.length}): upgrade berth`);
        }
        for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${MIGRATIONS.length}`);
      }).immediate();
    } catch (error) {
      if (error instanceof NetworkError) throw error;
      throw new NetworkError('Metadata', `failed to open network metadata in ${root}: ${(error as Error).message}`, { cause: error });
    }
    const store = new NetworkStore(db, options);
    store.#ensurePredefined();
    return store;
  }

  close(): void {
    this.#db.close();
  }

  /** Docker's three predefined networks; `bridge` takes the first free default pool (172.17.0.0/16 unless taken). */
  #ensurePredefined(): void {
    this.#db.transaction(() => {
      const has = (name: string): boolean => this.#db.prepare('SELECT 1 FROM networks WHERE name = ? AND predefined = 1').get(name) !== undefined;
      if (!has('bridge')) {
        const pool = choosePool([...this.#routes(), ...this.#subnetsInUse()]);
        if (!pool) throw new AddressExhaustedError('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
        const id = newId();
        const bridgeName = `br-${id.slice(0, 12)}`;
        this.#insert({
          id, name: 'bridge', driver: 'bridge', created: now(), internal: false, attachable: false, labels: {},
          options: {
            'com.docker.network.bridge.default_bridge': 'true',
            'com.docker.network.bridge.enable_icc': 'true',
            'com.docker.network.bridge.enable_ip_masquerade': 'true',
            'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
            'com.docker.network.bridge.name': bridgeName,
            'com.docker.network.driver.mtu': '1500',
          },
          ipamOptions: null,
          ipamConfig: [{ Subnet: formatCidr(pool), Gateway: formatIPv4(pool.base + 1) }],
          userSubnet: false, bridgeName, dns: false, predefined: true,
        });
      }
      for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
        if (has(name)) continue;
        this.#insert({
          id: newId(), name, driver, created: now(), internal: false, attachable: false, labels: {}, options: {},
          ipamOptions: null, ipamConfig: [], userSubnet: false, bridgeName: '', dns: false, predefined: true,
        });
      }
    }).immediate();
  }

  /**
   * `POST /networks/create`: validates like dockerd 20.10, resolves the
   * IPAM config (a free default pool when none is given) and records it.
   */
  create(req: CreateNetworkRequest): { id: string; warning: string } {
    const name = req.Name;
    if (typeof name !== 'string' || name === '') throw new InvalidNetworkConfigError(`invalid name: ${name ?? ''}`);
    if (['bridge', 'host', 'none', 'default'].includes(name)) {
      throw new PredefinedNetworkError(`operation is not permitted on predefined ${name} network `);
    }
    const driver = req.Driver === undefined || req.Driver === '' ? 'bridge' : req.Driver;
    if (!SUPPORTED_DRIVERS.has(driver)) {
      if (driver === 'host' || driver === 'null') {
        throw new PredefinedNetworkError(`only one instance of "${driver}" network is allowed`);
      }
      if (DOCKER_DRIVERS_NOT_HERE.has(driver)) throw new NetworkNotImplementedError(`network driver "${driver}" is not supported by berth: use bridge`);
      throw new NetworkError('NotFound', `plugin "${driver}" not found`);
    }
    if (req.Scope !== undefined && req.Scope !== '' && req.Scope !== 'local') {
      throw new NetworkNotImplementedError(`network scope "${req.Scope}" is not supported by berth: networks are local`);
    }
    if (req.Ingress === true) throw new NetworkNotImplementedError('ingress networks need swarm mode, which berth does not have');
    if (req.ConfigOnly === true || (req.ConfigFrom?.Network ?? '') !== '') {
      throw new NetworkNotImplementedError('config-only networks (ConfigOnly, ConfigFrom) are not supported by berth');
    }
    if (req.EnableIPv6 === true) throw new NetworkNotImplementedError('EnableIPv6: IPv6 networks are not supported by berth');
    const ipamDriver = req.IPAM?.Driver ?? '';
    if (ipamDriver !== '' && ipamDriver !== 'default') throw new NetworkError('NotFound', `plugin "${ipamDriver}" not found`);
    const options = { ...(req.Options ?? {}) };
    for (const [key, value] of Object.entries(options)) {
      if (!BRIDGE_OPTIONS.has(key)) throw new NetworkNotImplementedError(`network option "${key}" is not supported by berth`);
      if ((key.endsWith('enable_icc') || key.endsWith('enable_ip_masquerade')) && value !== 'true') {
        throw new NetworkNotImplementedError(`network option "${key}=${value}" is not supported by berth (only true)`);
      }
      if (key.endsWith('.mtu') && !/^\d+$/.test(value)) throw new InvalidNetworkConfigError(`invalid MTU "${value}"`);
    }
    const bridgeOption = options['com.docker.network.bridge.name'];
    if (bridgeOption !== undefined && !/^[a-zA-Z0-9_.-]{1,15}$/.test(bridgeOption)) {
      throw new InvalidNetworkConfigError(`invalid bridge name "${bridgeOption}": at most 15 letters, digits, '.', '_' or '-'`);
    }

    return this.#db.transaction(() => {
      // Names are unique whatever CheckDuplicate says: dockerd 20.10 honoured CheckDuplicate=false, but
      // berth speaks API 1.47, where the daemon always refuses a duplicate (the field is deprecated since 1.44).
      if (this.#rowsNamed(name).length > 0) throw new NetworkExistsError(name);
      const id = newId();
      const requested = req.IPAM?.Config ?? [];
      if (requested.length > 1) throw new NetworkNotImplementedError('more than one IPAM config: berth networks have one IPv4 subnet');
      const ipamConfig = requested.length === 0 ? [this.#defaultPool()] : [this.#resolveConfig(requested[0]!)];
      const bridgeName = bridgeOption ?? `br-${id.slice(0, 12)}`;
      if (this.list().some((n) => n.bridgeName === bridgeName)) {
        throw new InvalidNetworkConfigError(`bridge name ${bridgeName} is already used by another network`);
      }
      this.#insert({
        id, name, driver: driver as NetworkDriver, created: now(), internal: req.Internal === true, attachable: req.Attachable === true,
        labels: { ...(req.Labels ?? {}) }, options, ipamOptions: req.IPAM?.Options ?? null, ipamConfig,
        userSubnet: requested.length > 0, bridgeName, dns: true, predefined: false,
      });
      return { id, warning: '' };
    }).immediate();
  }

  #defaultPool(): IpamConfigEntry {
    const pool = choosePool([...this.#routes(), ...this.#subnetsInUse()]);
    if (!pool) {
      throw new AddressExhaustedError('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
    }
    return { Subnet: formatCidr(pool), Gateway: formatIPv4(pool.base + 1) };
  }

  #resolveConfig(c: Partial<IpamConfigEntry>): IpamConfigEntry {
    if (!c.Subnet) throw new NetworkNotImplementedError('an IPAM config without a Subnet is not supported by berth: give the subnet');
    const subnet = parseCidr(c.Subnet);
    if (subnet.prefix > 30) throw new InvalidNetworkConfigError(`subnet ${c.Subnet} is too small: berth needs at least a /30`);
    if (this.#subnetsInUse().some((s) => overlaps(s, subnet))) throw new PoolOverlapError();
    const out: IpamConfigEntry = { Subnet: c.Subnet };
    if (c.IPRange) {
      const range = parseCidr(c.IPRange, 'ip-range');
      if (!contains(subnet, range.base) || range.prefix < subnet.prefix) {
        throw new InvalidNetworkConfigError(`Invalid range ${c.IPRange} for ${c.Subnet}`);
      }
      out.IPRange = c.IPRange;
    }
    let gateway = subnet.base + 1;
    if (c.Gateway) {
      const gw = parseIPv4(c.Gateway);
      if (gw === undefined) throw new InvalidNetworkConfigError(`Invalid gateway ${c.Gateway}`);
      if (!contains(subnet, gw)) throw new InvalidNetworkConfigError(`failed to allocate gateway (${c.Gateway}): Requested address is out of range`);
      gateway = gw;
    }
    out.Gateway = formatIPv4(gateway);
    if (c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length > 0) {
      for (const [host, addr] of Object.entries(c.AuxiliaryAddresses)) {
        const ip = parseIPv4(addr);
        if (ip === undefined || !contains(subnet, ip)) throw new InvalidNetworkConfigError(`invalid auxiliary address ${host}=${addr}: not in subnet ${c.Subnet}`);
      }
      out.AuxiliaryAddresses = { ...c.AuxiliaryAddresses };
    }
    return out;
  }

  #subnetsInUse(): Cidr[] {
    return this.list().flatMap((n) => n.ipamConfig.map((c) => parseCidr(c.Subnet)));
  }

  #insert(n: NetworkRecord): void {
    this.#db.prepare(`INSERT INTO networks (id, name, driver, created, internal, attachable, labels, options, ipam_options,
        ipam_config, user_subnet, bridge_name, dns, predefined) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`).run(
      n.id, n.name, n.driver, n.created, n.internal ? 1 : 0, n.attachable ? 1 : 0, JSON.stringify(n.labels),
      JSON.stringify(n.options), n.ipamOptions === null ? null : JSON.stringify(n.ipamOptions), JSON.stringify(n.ipamConfig),
      n.userSubnet ? 1 : 0, n.bridgeName, n.dns ? 1 : 0, n.predefined ? 1 : 0,
    );
  }

  #rowsNamed(name: string): NetworkRow[] {
    return this.#db.prepare<[string], NetworkRow>('SELECT * FROM networks WHERE name = ?').all(name);
  }

  /** Every network, predefined ones first, then by creation. */
  list(): NetworkRecord[] {
    return this.#db.prepare<[], NetworkRow>('SELECT * FROM networks ORDER BY predefined DESC, created').all().map(toNetwork);
  }

  /** Docker's lookup order: full id, exact name (ambiguous when shared), then a unique id prefix. */
  resolve(ref: string): NetworkRecord {
    if (ref === '') throw new NetworkNotFoundError(ref);
    const byId = this.#db.prepare<[string], NetworkRow>('SELECT * FROM networks WHERE id = ?').get(ref);
    if (byId) return toNetwork(byId);
    const named = this.#rowsNamed(ref);
    if (named.length === 1) return toNetwork(named[0]!);
    if (named.length > 1) throw new AmbiguousNetworkError(ref, named.length);
    if (/^[0-9a-f]+$/.test(ref)) {
      const prefixed = this.#db.prepare<[string], NetworkRow>("SELECT * FROM networks WHERE id LIKE ? || '%'").all(ref);
      if (prefixed.length === 1) return toNetwork(prefixed[0]!);
      if (prefixed.length > 1) throw new AmbiguousNetworkError(ref, prefixed.length);
    }
    throw new NetworkNotFoundError(ref);
  }

  find(ref: string): NetworkRecord | undefined {
    try {
      return this.resolve(ref);
    } catch (error) {
      if (error instanceof NetworkNotFoundError) return undefined;
      throw error;
    }
  }

  /** `DELETE /networks/{id}`: refused for predefined networks and while a container is connected. */
  remove(ref: string): NetworkRecord {
    return this.#db.transaction(() => {
      const n = this.resolve(ref);
      if (n.predefined) throw new PredefinedNetworkError(`${n.name} is a pre-defined network and cannot be removed`);
      if (this.endpointsOn(n.id).length > 0) throw new NetworkInUseError(n.name, n.id);
      this.#db.prepare('DELETE FROM networks WHERE id = ?').run(n.id);
      return n;
    }).immediate();
  }

  endpointsOn(networkId: string): EndpointRecord[] {
    return this.#db.prepare<[string], EndpointRow>('SELECT * FROM endpoints WHERE network = ? ORDER BY rowid').all(networkId).map(toEndpoint);
  }

  /** A container's endpoints, in connect order (the first is its primary network). */
  endpointsOf(containerId: string): EndpointRecord[] {
    return this.#db.prepare<[string], EndpointRow>('SELECT * FROM endpoints WHERE container = ? ORDER BY rowid').all(containerId).map(toEndpoint);
  }

  /** Containers with an endpoint anywhere. */
  containersWithEndpoints(): string[] {
    return this.#db.prepare<[], { container: string }>('SELECT DISTINCT container FROM endpoints').all().map((r) => r.container);
  }

  /**
   * Records a container's endpoint on a network (create, `network connect`).
   * Addresses come at `allocate`, when it starts, as in Docker.
   */
  connect(containerId: string, containerName: string, ref: string, req: EndpointRequest = {}): EndpointRecord {
    return this.#db.transaction(() => {
      const n = this.resolve(ref);
      if (n.driver === 'host' || n.driver === 'null') {
        throw new InvalidNetworkConfigError('container cannot be disconnected from host network or connected to host network');
      }
      if (this.#endpoint(n.id, containerId)) throw new EndpointExistsError(containerName, n.name);
      const requestedIp = req.IPAMConfig?.IPv4Address ?? '';
      if ((req.IPAMConfig?.IPv6Address ?? '') !== '') throw new NetworkNotImplementedError('IPv6Address: IPv6 endpoints are not supported by berth');
      if ((req.IPAMConfig?.LinkLocalIPs ?? []).length > 0) throw new NetworkNotImplementedError('LinkLocalIPs are not supported by berth');
      if (req.DriverOpts && Object.keys(req.DriverOpts).length > 0) throw new NetworkNotImplementedError('endpoint DriverOpts are not supported by berth');
      if (requestedIp !== '') {
        if (!n.userSubnet) {
          throw new InvalidNetworkConfigError('user specified IP address is supported only when connecting to networks with user configured subnets');
        }
        const ip = parseIPv4(requestedIp);
        if (ip === undefined) throw new InvalidNetworkConfigError(`invalid IPv4 address: ${requestedIp}`);
        if (!n.ipamConfig.some((c) => contains(parseCidr(c.Subnet), ip))) {
          throw new InvalidNetworkConfigError(`no configured subnet or ip-range contain the IP address ${requestedIp}`);
        }
      }
      const requestedMac = req.MacAddress ?? '';
      if (requestedMac !== '' && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(requestedMac)) {
        throw new InvalidNetworkConfigError(`invalid MAC address: ${requestedMac}`);
      }
      const aliases = [...(req.Aliases ?? [])];
      if (aliases.length > 0 && !n.dns) throw new InvalidNetworkConfigError('network-scoped alias is supported only for containers in user defined networks');
      const links = [...(req.Links ?? [])];
      this.#db.prepare(`INSERT INTO endpoints (network, container, container_name, endpoint_id, requested_ip, ip, prefix_len,
          gateway, mac, requested_mac, aliases, links, active, iface) VALUES (?,?,?,?,?,'',0,'','',?,?,?,0,'')`).run(
        n.id, containerId, containerName, newId(), requestedIp, requestedMac, JSON.stringify(aliases), JSON.stringify(links),
      );
      return this.#endpoint(n.id, containerId)!;
    }).immediate();
  }

  #endpoint(networkId: string, containerId: string): EndpointRecord | undefined {
    const row = this.#db.prepare<[string, string], EndpointRow>('SELECT * FROM endpoints WHERE network = ? AND container = ?').get(networkId, containerId);
    return row ? toEndpoint(row) : undefined;
  }

  /** `network disconnect`: the endpoint goes (the caller tears it down first when it is active). */
  disconnect(containerId: string, ref: string): EndpointRecord {
    return this.#db.transaction(() => {
      const n = this.resolve(ref);
      if (n.driver === 'host') throw new InvalidNetworkConfigError('container cannot be disconnected from host network or connected to host network');
      const ep = this.#endpoint(n.id, containerId);
      if (!ep) throw new NotConnectedError(containerId, n.name);
      this.#db.prepare('DELETE FROM endpoints WHERE network = ? AND container = ?').run(n.id, containerId);
      return ep;
    }).immediate();
  }

  /** A removed container's endpoints and ports go. */
  forgetContainer(containerId: string): void {
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM endpoints WHERE container = ?').run(containerId);
      this.#db.prepare('DELETE FROM ports WHERE container = ?').run(containerId);
      this.#db.prepare('DELETE FROM netns_holders WHERE container = ?').run(containerId);
    }).immediate();
  }

  /** Records the process holding the container's network namespace (replacing an older one). */
  setHolder(containerId: string, holder: { pid: number; startTime: number }): void {
    this.#db.prepare('INSERT OR REPLACE INTO netns_holders (container, pid, start_time) VALUES (?, ?, ?)').run(containerId, holder.pid, holder.startTime);
  }

  holderOf(containerId: string): { pid: number; startTime: number } | undefined {
    const row = this.#db.prepare('SELECT pid, start_time FROM netns_holders WHERE container = ?').get(containerId) as { pid: number; start_time: number } | undefined;
    return row ? { pid: row.pid, startTime: row.start_time } : undefined;
  }

  clearHolder(containerId: string): void {
    this.#db.prepare('DELETE FROM netns_holders WHERE container = ?').run(containerId);
  }

  /** Containers with a recorded namespace holder. */
  containersWithHolders(): string[] {
    return (this.#db.prepare('SELECT container FROM netns_holders').all() as { container: string }[]).map((r) => r.container);
  }

  /**
   * Gives every endpoint of the container that has none an address (the
   * requested one, else the lowest free one of its range) and a MAC
   * (requested, else Docker's 02:42 + address), in one transaction.
   */
  allocate(containerId: string, networkId?: string): EndpointRecord[] {
    return this.#db.transaction(() => {
      for (const ep of this.endpointsOf(containerId)) {
        if (ep.ipAddress !== '' || (networkId !== undefined && ep.networkId !== networkId)) continue;
        const n = this.resolve(ep.networkId);
        const c = n.ipamConfig[0];
        if (!c) continue;
        const pool = resolvedPool(c);
        const used = new Set(this.endpointsOn(n.id).filter((e) => e.ipAddress !== '').map((e) => parseIPv4(e.ipAddress)!));
        let ip: number | undefined;
        if (ep.requestedIp !== '') {
          ip = parseIPv4(ep.requestedIp)!;
          if (used.has(ip) || ip === pool.gateway) {
            throw new AddressExhaustedError(`Address already in use: ${ep.requestedIp} on network ${n.name}`);
          }
        } else {
          ip = nextFreeAddress(pool, used);
          if (ip === undefined) throw new AddressExhaustedError(`no available IPv4 addresses on this network's address pools: ${n.name} (${n.id})`);
        }
        this.#db.prepare('UPDATE endpoints SET ip = ?, prefix_len = ?, gateway = ?, mac = ? WHERE network = ? AND container = ?').run(
          formatIPv4(ip), pool.subnet.prefix, formatIPv4(pool.gateway), ep.requestedMac || macForAddress(ip), n.id, containerId,
        );
      }
      return this.endpointsOf(containerId);
    }).immediate();
  }

  /**
   * netavark's setup is about to run (true: the endpoint gets the lowest
   * free `ethN` of the container, recorded before the setup so a crash
   * midway can be torn down) or its teardown ran (false).
   */
  setActive(containerId: string, networkId: string, active: boolean): EndpointRecord {
    return this.#db.transaction(() => {
      const ep = this.#endpoint(networkId, containerId);
      if (!ep) throw new NotConnectedError(containerId, networkId);
      let iface = ep.interfaceName;
      if (active && iface === '') {
        const used = new Set(this.endpointsOf(containerId).map((e) => e.interfaceName));
        for (let i = 0; ; i++) if (!used.has(`eth${i}`)) { iface = `eth${i}`; break; }
      }
      this.#db.prepare('UPDATE endpoints SET active = ?, iface = ? WHERE network = ? AND container = ?').run(
        active ? 1 : 0, active ? iface : '', networkId, containerId,
      );
      return this.#endpoint(networkId, containerId)!;
    }).immediate();
  }

  /** The container stopped: its addresses and ports go back to the pools; its endpoints stay (Docker keeps them). */
  release(containerId: string, networkId?: string): void {
    this.#db.transaction(() => {
      if (networkId === undefined) {
        this.#db.prepare("UPDATE endpoints SET ip = '', prefix_len = 0, gateway = '', mac = '', active = 0, iface = '' WHERE container = ?").run(containerId);
        this.#db.prepare('DELETE FROM ports WHERE container = ?').run(containerId);
      } else {
        this.#db.prepare("UPDATE endpoints SET ip = '', prefix_len = 0, gateway = '', mac = '', active = 0, iface = '' WHERE container = ? AND network = ?").run(containerId, networkId);
      }
    }).immediate();
  }

  /**
   * Chooses host ports for a container's published ports: the given one,
   * else a free one from Docker's ephemeral range (not used by berth nor
   * listened on by another program). Conflicts are Docker's error.
   */
  allocatePorts(containerId: string, wanted: ReadonlyArray<Omit<PortMapping, 'hostPort'> & { hostPort: number | undefined }>): PortMapping[] {
    return this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM ports WHERE container = ?').run(containerId);
      const taken = (protocol: string): Set<number> => new Set(
        this.#db.prepare<[string], { host_port: number }>('SELECT host_port FROM ports WHERE protocol = ?').all(protocol).map((r) => r.host_port),
      );
      const out: PortMapping[] = [];
      for (const w of wanted) {
        const ours = taken(w.protocol);
        let port = w.hostPort;
        if (port === undefined) {
          const busy = this.#portsInUse(w.protocol);
          for (let p = EPHEMERAL_PORTS.first; p <= EPHEMERAL_PORTS.last; p++) {
            if (!ours.has(p) && !busy.has(p)) { port = p; break; }
          }
          if (port === undefined) throw new AddressExhaustedError('failed to allocate a host port: no free port in the ephemeral range');
        } else if (ours.has(port)) {
          throw new NetworkError('Conflict', `driver failed programming external connectivity on endpoint: Bind for ${w.hostIp || '0.0.0.0'}:${port} failed: port is already allocated`);
        }
        this.#db.prepare('INSERT INTO ports (container, container_port, protocol, host_ip, host_port) VALUES (?,?,?,?,?)').run(
          containerId, w.containerPort, w.protocol, w.hostIp, port,
        );
        out.push({ containerPort: w.containerPort, protocol: w.protocol, hostIp: w.hostIp, hostPort: port });
      }
      return out;
    }).immediate();
  }

  portsOf(containerId: string): PortMapping[] {
    return this.#db.prepare<[string], { container_port: number; protocol: 'tcp' | 'udp'; host_ip: string; host_port: number }>(
      'SELECT container_port, protocol, host_ip, host_port FROM ports WHERE container = ? ORDER BY rowid',
    ).all(containerId).map((r) => ({ containerPort: r.container_port, protocol: r.protocol, hostIp: r.host_ip, hostPort: r.host_port }));
  }
}

function resolvedPool(c: IpamConfigEntry): ResolvedPool {
  const subnet = parseCidr(c.Subnet);
  return {
    subnet,
    gateway: parseIPv4(c.Gateway ?? '') ?? subnet.base + 1,
    range: c.IPRange ? parseCidr(c.IPRange) : subnet,
    reserved: Object.values(c.AuxiliaryAddresses ?? {}).map((a) => parseIPv4(a)!),
  };
}

function toNetwork(r: NetworkRow): NetworkRecord {
  return {
    id: r.id, name: r.name, driver: r.driver as NetworkDriver, created: r.created, internal: r.internal === 1,
    attachable: r.attachable === 1, labels: JSON.parse(r.labels) as Record<string, string>,
    options: JSON.parse(r.options) as Record<string, string>,
    ipamOptions: r.ipam_options === null ? null : (JSON.parse(r.ipam_options) as Record<string, string>),
    ipamConfig: JSON.parse(r.ipam_config) as IpamConfigEntry[], userSubnet: r.user_subnet === 1, bridgeName: r.bridge_name,
    dns: r.dns === 1, predefined: r.predefined === 1,
  };
}

function toEndpoint(r: EndpointRow): EndpointRecord {
  return {
    networkId: r.network, containerId: r.container, containerName: r.container_name, endpointId: r.endpoint_id,
    requestedIp: r.requested_ip, ipAddress: r.ip, prefixLen: r.prefix_len, gateway: r.gateway, macAddress: r.mac,
    requestedMac: r.requested_mac, aliases: JSON.parse(r.aliases) as string[], links: JSON.parse(r.links) as string[],
    active: r.active === 1, interfaceName: r.iface,
  };
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

/** The wall clock in nanoseconds, monotonic within this process (list order is creation order). */
const EPOCH_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Docker's `Created`: RFC 3339 with nanoseconds. */
function now(): string {
  const ns = EPOCH_NS + process.hrtime.bigint();
  const iso = new Date(Number(ns / 1_000_000n)).toISOString();
  return `${iso.slice(0, 19)}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
}

function readOr(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

/** Local ports in LISTEN (tcp) or bound (udp) state, IPv4 and IPv6. */
function listeningPorts(protocol: 'tcp' | 'udp'): Set<number> {
  const out = new Set<number>();
  for (const file of [`/proc/net/${protocol}`, `/proc/net/${protocol}6`]) {
    for (const line of readOr(file).split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      if (protocol === 'tcp' && f[3] !== '0A') continue;
      const port = Number.parseInt(f[1]!.split(':').pop() ?? '', 16);
      if (Number.isFinite(port)) out.add(port);
    }
  }
  return out;
}

