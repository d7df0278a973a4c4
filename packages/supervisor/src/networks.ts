/**
 * Networks in the supervisor: the API's operations on `@berth/networks`,
 * with the container side (which container, whether it runs, where its
 * network namespace is) asked of the lifecycle. Live connect and
 * disconnect go through netavark in the running container's namespace.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  NetworkAttachments, NetworkStore, filterNetworks, hostsFile, linkEnvironment, networkSettings, networkShape, parseExtraHosts,
  pruneCandidates, resolvConf, resolveNetworking,
  type CreateNetworkRequest, type EndpointRequest, type FilterMap, type NetworkRecord, type NetworkingRequest,
  type ResolvedNetworking,
} from '@berth/networks';
import { releaseNetnsHolder, runningNetnsHolders, type NetworkFiles, type NetworkHook, type NetworkSetup, type ProcessRef } from '@berth/runtime';
import { processStartTime } from '@berth/syscall';
import type { ContainerRecord } from './container-store.js';
import { ConflictError, InvalidParameterError } from './errors.js';
import { Trash } from '@berth/layers';

/** What the network service needs to know about containers (the lifecycle answers). */
export interface ContainerDirectory {
  resolve(ref: string): ContainerRecord;
  find(id: string): ContainerRecord | undefined;
  /** The init of a running container. */
  liveProcess(id: string): { pid: number } | undefined;
}

export class NetworkService {
  readonly store: NetworkStore;
  readonly attachments: NetworkAttachments;
  /** Network namespaces held open for running containers (fd), so their teardown works after they exit. */
  private readonly held = new Map<string, number>();

  private readonly filesDir: string;

  private readonly trash: Trash;

  constructor(root: string, private readonly containers: ContainerDirectory, options: { configDir?: string; trash?: Trash } = {}) {
    this.trash = options.trash ?? new Trash();
    this.store = NetworkStore.open(root);
    this.filesDir = join(root, 'network-files');
    this.attachments = new NetworkAttachments(this.store, { configDir: options.configDir ?? join(root, 'netavark') });
  }

  create(req: CreateNetworkRequest): { Id: string; Warning: string } {
    const { id, warning } = this.store.create(req);
    return { Id: id, Warning: warning };
  }

  inspect(ref: string): Record<string, unknown> {
    const n = this.store.resolve(ref);
    return networkShape(n, this.store.endpointsOn(n.id));
  }

  list(filters: FilterMap): Array<Record<string, unknown>> {
    const inUse = (id: string): boolean => this.store.endpointsOn(id).length > 0;
    // dockerd 20.10 lists every network with the containers running on it.
    return filterNetworks(this.store.list(), filters, inUse).map((n) => networkShape(n, this.store.endpointsOn(n.id)));
  }

  remove(ref: string): NetworkRecord {
    return this.store.remove(ref);
  }

  prune(filters: FilterMap): string[] {
    const inUse = (id: string): boolean => this.store.endpointsOn(id).length > 0;
    const removed: string[] = [];
    for (const n of pruneCandidates(this.store.list(), filters, inUse)) {
      try {
        this.store.remove(n.id);
        removed.push(n.name);
      } catch { /* connected meanwhile */ }
    }
    return removed;
  }

  /**
   * `POST /networks/{id}/connect`: recorded for a created container (set up
   * when it starts), set up now in a running one's namespace.
   */
  async connect(networkRef: string, containerRef: string, endpoint: EndpointRequest = {}): Promise<{ network: NetworkRecord; container: ContainerRecord }> {
    const container = this.containers.resolve(containerRef);
    const mode = String(container.hostConfig.NetworkMode ?? '');
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) {
      throw new InvalidParameterError('container sharing network namespace with another container or host cannot be connected to any other network');
    }
    const network = this.store.resolve(networkRef);
    this.store.connect(container.id, container.name, network.id, endpoint);
    const live = this.containers.liveProcess(container.id);
    if (live && network.driver === 'bridge') {
      try {
        await this.attachments.attachOne(container.id, container.name, network.id, this.netnsPath(container.id, live.pid));
      } catch (error) {
        this.store.disconnect(container.id, network.id);
        throw error;
      }
    }
    return { network, container };
  }

  /** `POST /networks/{id}/disconnect`; `force` also drops the record of a container that is gone. */
  async disconnect(networkRef: string, containerRef: string, force: boolean): Promise<{ network: NetworkRecord; containerId: string }> {
    const network = this.store.resolve(networkRef);
    let container: ContainerRecord | undefined;
    try {
      container = this.containers.resolve(containerRef);
    } catch (error) {
      const ep = this.store.endpointsOn(network.id).find((e) => e.containerId === containerRef || e.containerName === containerRef);
      if (!force || !ep) throw error;
      await this.attachments.teardownOrphan(ep.containerId, ep.containerName);
      this.store.disconnect(ep.containerId, network.id);
      return { network, containerId: ep.containerId };
    }
    const live = this.containers.liveProcess(container.id);
    if (live) await this.attachments.detachOne(container.id, container.name, network.id, this.netnsPath(container.id, live.pid));
    this.store.disconnect(container.id, network.id);
    return { network, containerId: container.id };
  }

  /**
   * A create request's network fields, resolved once (Docker's 400s for
   * conflicting options), without recording anything: call before the
   * container is recorded. Unknown networks are not an error yet: dockerd
   * 20.10 creates the container and its start answers `network X not found`.
   */
  resolveCreate(req: NetworkingRequest): ResolvedNetworking {
    return resolveNetworking(req);
  }

  /** The container is recorded: its endpoints on the networks that exist are (addresses come when it starts). */
  containerCreated(id: string, name: string, resolved: ResolvedNetworking): void {
    const made: string[] = [];
    try {
      for (const n of resolved.networks) {
        if (this.store.find(n.name)) made.push(this.store.connect(id, name, n.name, n.endpoint).networkId);
      }
    } catch (error) {
      for (const networkId of made) this.store.disconnect(id, networkId);
      throw error;
    }
  }

  /**
   * At start, for a container with no endpoint at all: those of its request
   * (its network was missing at create; now it must exist, else Docker's 404).
   */
  private connectMissing(rec: ContainerRecord, resolved: ResolvedNetworking): void {
    const have = new Set(this.store.endpointsOf(rec.id).map((e) => e.networkId));
    if (have.size > 0) return;
    for (const n of resolved.networks) {
      const network = this.store.resolve(n.name);
      if (!have.has(network.id)) this.store.connect(rec.id, rec.name, network.id, n.endpoint);
    }
  }

  /**
   * What `Runtime.start` gets for a container: a hook that attaches its
   * endpoints through netavark and writes its name files, or the
   * namespace of the container it shares (`container:<id>`), or nothing
   * (`host`, `none`).
   */
  launchOptions(rec: ContainerRecord): { network?: NetworkHook; joinNetwork?: string } {
    const resolved = resolveNetworking(this.requestOf(rec));
    if (resolved.mode === 'container') {
      const other = this.containers.resolve(resolved.container!);
      const live = this.containers.liveProcess(other.id);
      if (!live) throw new ConflictError(`cannot join network of a non running container: ${other.id}`);
      return { joinNetwork: `/proc/${live.pid}/ns/net` };
    }
    if (resolved.mode !== 'bridge') return {};
    this.connectMissing(rec, resolved);
    let recorded: ProcessRef | undefined;
    return {
      network: {
        setup: async (netnsPath: string, holder: ProcessRef): Promise<NetworkSetup> => {
          // First: a supervisor killed from here on finds the namespace through it.
          this.store.setHolder(rec.id, holder);
          recorded = holder;
          const attached = await this.attachments.attach(rec.id, rec.name, netnsPath, resolved.ports);
          const files = this.writeFiles(rec, resolved, attached.endpoints.map((e) => e.ipAddress).filter((ip) => ip !== ''), attached.dnsServers);
          return { ...files, linkEnv: this.linkEnv(rec, resolved) };
        },
        teardown: async (netnsPath: string): Promise<void> => {
          try {
            await this.attachments.detach(rec.id, rec.name, netnsPath);
          } catch {
            // netavark failed in the held namespace: the fresh-namespace path still cleans up.
            await this.attachments.teardownOrphan(rec.id, rec.name);
          }
          // The holder ends before its record goes: a supervisor killed in between finds a record of a
          // dead process (skipped), never a live holder nothing records. (The runtime's own release
          // after this is then a no-op; its fd on the namespace is closed by it.)
          if (recorded) releaseNetnsHolder(recorded);
          this.store.clearHolder(rec.id);
        },
      },
    };
  }

  /**
   * Docker's legacy link variables: only for a container on the default
   * `bridge`, from each linked container's address there, its Env and its
   * exposed ports, as the linked container is at this start.
   */
  private linkEnv(rec: ContainerRecord, resolved: ResolvedNetworking): string[] {
    const bridge = this.store.resolve('bridge');
    if (!this.store.endpointsOf(rec.id).some((e) => e.networkId === bridge.id)) return [];
    const self = rec.name.replace(/^\//, '');
    return linkEnvironment(this.linked(resolved).flatMap(({ other, alias }) => {
      const ip = this.store.endpointsOf(other.id).find((e) => e.networkId === bridge.id)?.ipAddress;
      if (!ip) return [];
      return [{
        name: `/${self}/${alias}`, ip, env: (other.config.Env as string[] | undefined) ?? [],
        exposedPorts: Object.keys((other.config['ExposedPorts'] as Record<string, unknown> | undefined) ?? {}),
      }];
    }));
  }

  /** The link variables an exec in the container gets (dockerd computes them again for every exec). */
  linkEnvOf(rec: ContainerRecord): string[] {
    const resolved = resolveNetworking(this.requestOf(rec));
    return resolved.mode === 'bridge' ? this.linkEnv(rec, resolved) : [];
  }

  /** The containers of `--link other[:alias]` (`/other:/self/alias` as stored) that exist, with their alias. */
  private linked(resolved: ResolvedNetworking): Array<{ other: ContainerRecord; alias: string }> {
    return resolved.links.flatMap((link) => {
      const [target = '', aliasPath = target] = link.split(':');
      const ref = target.replace(/^\//, '');
      const other = this.containers.find(ref) ?? (() => { try { return this.containers.resolve(ref); } catch { return undefined; } })();
      return other ? [{ other, alias: aliasPath.split('/').pop() ?? aliasPath }] : [];
    });
  }

  private requestOf(rec: ContainerRecord): NetworkingRequest {
    return { Config: rec.config as NetworkingRequest['Config'], HostConfig: rec.hostConfig as NetworkingRequest['HostConfig'] };
  }

  /** /etc/hosts, /etc/resolv.conf and /etc/hostname as Docker writes them, in berth's own directory for the container. */
  private writeFiles(rec: ContainerRecord, resolved: ResolvedNetworking, addresses: string[], networkDns: string[]): NetworkFiles {
    const dir = join(this.filesDir, rec.id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const hostname = String(rec.config.Hostname || rec.id.slice(0, 12));
    const bridgeGateway = this.store.resolve('bridge').ipamConfig[0]?.Gateway ?? '';
    const links = this.linked(resolved).flatMap(({ other, alias }) => {
      const ip = this.store.endpointsOf(other.id).find((e) => e.ipAddress !== '')?.ipAddress;
      return ip ? [{ ip, names: [...new Set([alias, other.id.slice(0, 12), other.name])] }] : [];
    });
    const files: NetworkFiles = { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') };
    const domain = String(rec.config['Domainname'] ?? '');
    writeFileSync(files.hosts!, hostsFile({
      hostname, ...(domain ? { domainname: domain } : {}), addresses, extraHosts: parseExtraHosts(resolved.extraHosts, bridgeGateway), links,
    }));
    let host = '';
    try { host = readFileSync('/etc/resolv.conf', 'utf8'); } catch { /* none on the host */ }
    writeFileSync(files.resolvConf!, resolvConf({ host, networkDns, dns: resolved.dns, dnsSearch: resolved.dnsSearch, dnsOptions: resolved.dnsOptions }));
    writeFileSync(files.hostname!, `${hostname}\n`);
    return files;
  }

  /** Container inspect's `NetworkSettings`. */
  settingsOf(rec: ContainerRecord, running: boolean): Record<string, unknown> {
    const mode = String(rec.hostConfig.NetworkMode || 'default');
    const networks = this.attachments.networksOf(rec.id) as Array<{ network: NetworkRecord; endpoint?: ReturnType<NetworkStore['endpointsOf']>[number] }>;
    if (mode === 'host' || mode === 'none') {
      const n = this.store.find(mode);
      if (n) networks.push({ network: n });
    }
    const live = running ? this.containers.liveProcess(rec.id) : undefined;
    return networkSettings({
      containerId: rec.id, networkMode: mode, networks, exposedPorts: rec.config['ExposedPorts'] as Record<string, unknown> | undefined,
      ports: this.store.portsOf(rec.id), running,
      ...(live && mode !== 'host' ? { sandboxKey: `/proc/${live.pid}/ns/net` } : {}),
    });
  }

  /** `docker ps`'s `Ports` and `NetworkSettings.Networks` of a container summary. */
  summaryOf(rec: ContainerRecord, running: boolean): Record<string, unknown> {
    const settings = this.settingsOf(rec, running);
    const ports = running ? this.store.portsOf(rec.id).map((p) => ({
      IP: p.hostIp === '' ? '0.0.0.0' : p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol,
    })) : [];
    const exposed = Object.keys((rec.config['ExposedPorts'] as Record<string, unknown> | undefined) ?? {})
      .map((k) => { const [port = '0', type = 'tcp'] = k.split('/'); return { PrivatePort: Number(port), Type: type }; })
      .filter((e) => !ports.some((p) => p.PrivatePort === e.PrivatePort && p.Type === e.Type));
    return { Ports: [...ports, ...exposed], NetworkSettings: { Networks: settings['Networks'] } };
  }

  /** `docker port`: the published ports of a running container (`NetworkSettings.Ports`' non-null entries). */
  portsOf(containerId: string): ReturnType<NetworkStore['portsOf']> {
    return this.store.portsOf(containerId);
  }

  /**
   * Where netavark finds a running container's namespace: the fd this
   * supervisor holds on it, else its init's `/proc/<pid>/ns/net`, which is
   * then opened and held so the teardown still finds it after the exit.
   */
  netnsPath(containerId: string, pid: number): string {
    let fd = this.held.get(containerId);
    if (fd === undefined) {
      fd = openSync(`/proc/${pid}/ns/net`, 'r');
      this.held.set(containerId, fd);
    }
    return `/proc/${process.pid}/fd/${fd}`;
  }

  /**
   * The container exited (re-adopted, or found gone at a restart): its
   * endpoints' teardown in the namespace still held — by this supervisor's
   * fd, else by the holder process its launch recorded — and only when
   * neither holds it any more, from a fresh one. Then the fd and the holder go.
   */
  async containerExited(containerId: string, containerName: string): Promise<void> {
    const fd = this.held.get(containerId);
    const holder = this.liveHolder(containerId);
    try {
      if (!this.store.endpointsOf(containerId).some((e) => e.active || e.ipAddress !== '')) return;
      const path = fd !== undefined ? `/proc/${process.pid}/fd/${fd}` : holder ? `/proc/${holder.pid}/fd/3` : undefined;
      try {
        if (path !== undefined) await this.attachments.detach(containerId, containerName, path);
        else await this.attachments.teardownOrphan(containerId, containerName);
      } catch {
        await this.attachments.teardownOrphan(containerId, containerName);
      }
    } finally {
      if (fd !== undefined) closeSync(fd);
      this.held.delete(containerId);
      if (holder) releaseNetnsHolder(holder);
      this.store.clearHolder(containerId);
    }
  }

  /** The recorded holder of a container's namespace, if that process still runs. */
  private liveHolder(containerId: string): ProcessRef | undefined {
    const holder = this.store.holderOf(containerId);
    return holder && processStartTime(holder.pid) === holder.startTime ? holder : undefined;
  }

  /** The container was removed: its endpoints and ports are forgotten (torn down first if still active). */
  async containerRemoved(containerId: string, containerName: string): Promise<void> {
    // A live holder too (a supervisor killed during the exit's teardown left it): it ends before its record is forgotten.
    if (this.liveHolder(containerId) || this.store.endpointsOf(containerId).some((e) => e.active)) await this.containerExited(containerId, containerName);
    this.store.forgetContainer(containerId);
    this.trash.discard(join(this.filesDir, containerId));
  }

  /**
   * Supervisor start: endpoints of containers that no longer run are torn
   * down (fresh namespace); running ones keep their addresses and get their
   * namespace held again.
   */
  async reconcile(running: ReadonlyMap<string, number>): Promise<void> {
    for (const [id, pid] of running) {
      if (this.store.endpointsOf(id).some((e) => e.active)) {
        try { this.netnsPath(id, pid); } catch { /* gone meanwhile: torn down below at its exit */ }
      }
    }
    // Containers that exited while no supervisor ran: through their namespace's holder, else a fresh namespace.
    const gone = new Set([...this.store.containersWithEndpoints(), ...this.store.containersWithHolders()].filter((id) => !running.has(id)));
    for (const id of gone) await this.containerExited(id, this.containers.find(id)?.name ?? id.slice(0, 12));
    // Holders no record names (a kill between a holder's spawn and its record): ended when their
    // container is one of ours and does not run. Another supervisor's containers are not in our store.
    for (const holder of runningNetnsHolders()) {
      if (!running.has(holder.id) && this.containers.find(holder.id) && !this.store.holderOf(holder.id)) releaseNetnsHolder(holder);
    }
    for (const id of this.store.containersWithEndpoints()) {
      if (!this.containers.find(id)) this.store.forgetContainer(id);
    }
  }

  async close(): Promise<void> {
    for (const fd of this.held.values()) closeSync(fd);
    this.held.clear();
    // netavark's shared chains go when nothing of anyone's uses them any more.
    if (!this.store.list().some((n) => this.store.endpointsOn(n.id).some((e) => e.active))) await this.attachments.netavark.removeIdleChains();
    this.store.close();
  }
}
