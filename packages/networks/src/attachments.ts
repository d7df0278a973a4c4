/**
 * Attaching containers to networks: the store's records applied through
 * netavark, in the container's network namespace, given as a path by the
 * launcher (`/proc/<pid>/ns/net` of the container's PID 1, or
 * `/proc/<holder>/fd/N` of a process that holds the namespace open).
 *
 * An endpoint is marked active *before* its setup runs, so a supervisor
 * killed at any point leaves a record that `reconcile` can tear down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { NetworkError } from './errors.js';
import { Netavark, type EndpointAttachment, type NetavarkOptions } from './netavark.js';
import type { NetworkStore } from './store.js';
import type { EndpointRecord, NetworkRecord, PortMapping } from './types.js';
import type { WantedPort } from './ports.js';

/** What `attach` reports, for the container's files and inspect. */
export interface Attached {
  endpoints: EndpointRecord[];
  ports: PortMapping[];
  /** aardvark-dns's addresses for the container's DNS networks. */
  dnsServers: string[];
}

export class NetworkAttachments {
  readonly netavark: Netavark;

  constructor(readonly store: NetworkStore, options: NetavarkOptions) {
    this.netavark = new Netavark(options);
  }

  /** Whether the container needs netavark at all (an endpoint on a bridge network). */
  needsSetup(containerId: string): boolean {
    return this.store.endpointsOf(containerId).some((ep) => this.store.resolve(ep.networkId).driver === 'bridge');
  }

  /**
   * A container starts: addresses for its endpoints, host ports for its
   * published ports (on its primary network), and netavark's setup for
   * each endpoint in `netnsPath`. On failure, what was set up is torn down
   * and the addresses are released before the error is rethrown.
   */
  async attach(containerId: string, containerName: string, netnsPath: string, wanted: readonly WantedPort[] = []): Promise<Attached> {
    const { store } = this;
    const endpoints = store.allocate(containerId);
    const ports = wanted.length > 0 ? store.allocatePorts(containerId, wanted) : [];
    const dnsServers: string[] = [];
    try {
      for (const [i, ep] of endpoints.entries()) {
        const network = store.resolve(ep.networkId);
        const active = store.setActive(containerId, network.id, true);
        const result = await this.netavark.setup(netnsPath, { containerId, containerName, network, endpoint: active, ports: i === 0 ? ports : [] });
        dnsServers.push(...result.dnsServers);
      }
    } catch (error) {
      await this.detach(containerId, containerName, netnsPath).catch(() => undefined);
      throw error;
    }
    return { endpoints: store.endpointsOf(containerId), ports, dnsServers };
  }

  /** `network connect` on a running container: one more endpoint, set up now. */
  async attachOne(containerId: string, containerName: string, networkId: string, netnsPath: string): Promise<EndpointRecord> {
    const { store } = this;
    store.allocate(containerId, networkId);
    const network = store.resolve(networkId);
    const endpoint = store.setActive(containerId, networkId, true);
    try {
      await this.netavark.setup(netnsPath, { containerId, containerName, network, endpoint, ports: [] });
    } catch (error) {
      await this.netavark.teardown(netnsPath, { containerId, containerName, network, endpoint, ports: [] }).catch(() => undefined);
      store.release(containerId, networkId);
      throw error;
    }
    return store.endpointsOf(containerId).find((e) => e.networkId === networkId)!;
  }

  /** `network disconnect` of a running container: its endpoint's teardown. */
  async detachOne(containerId: string, containerName: string, networkId: string, netnsPath: string): Promise<void> {
    const ep = this.store.endpointsOf(containerId).find((e) => e.networkId === networkId);
    if (!ep || !ep.active) return;
    await this.netavark.teardown(netnsPath, this.attachment(containerId, containerName, ep));
    this.store.release(containerId, networkId);
  }

  /**
   * The container stopped (its namespace still held open, or a fresh one
   * given by `teardownOrphan`): teardown for every active endpoint, then
   * addresses and ports go back. Every endpoint is tried; the first error
   * is rethrown after, with the records kept so a later reconcile retries.
   */
  async detach(containerId: string, containerName: string, netnsPath: string): Promise<void> {
    let failure: unknown;
    for (const ep of this.store.endpointsOf(containerId)) {
      if (!ep.active) continue;
      try {
        await this.netavark.teardown(netnsPath, this.attachment(containerId, containerName, ep));
        this.store.setActive(containerId, ep.networkId, false);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
    this.store.release(containerId);
  }

  private attachment(containerId: string, containerName: string, ep: EndpointRecord): EndpointAttachment {
    const network = this.store.resolve(ep.networkId);
    const primary = this.store.endpointsOf(containerId).find((e) => e.active)?.networkId === ep.networkId;
    return { containerId, containerName, network, endpoint: ep, ports: primary ? this.store.portsOf(containerId) : [] };
  }

  /**
   * Tears down a container whose namespace is gone (it exited while no
   * supervisor held it): netavark 1.4 cannot tear down without the
   * namespace (it stops before removing NAT rules and the bridge), so the
   * endpoints are set up again in a fresh, empty namespace that berth
   * holds for the moment, and torn down from there.
   */
  async teardownOrphan(containerId: string, containerName: string): Promise<void> {
    const active = this.store.endpointsOf(containerId).filter((e) => e.active);
    if (active.length === 0) {
      this.store.release(containerId);
      return;
    }
    const holder = await FreshNamespace.open();
    try {
      for (const ep of active) {
        const a = this.attachment(containerId, containerName, ep);
        // A setup that fails (a stale rule already there) still leaves the teardown its interface.
        await this.netavark.setup(holder.path, a).catch(() => undefined);
      }
      await this.detach(containerId, containerName, holder.path);
    } finally {
      holder.close();
    }
  }

  /**
   * At supervisor start: containers with active endpoints that are not
   * running any more are torn down from a fresh namespace; running ones
   * keep their addresses. Returns the ids torn down.
   */
  async reconcile(running: ReadonlySet<string>, nameOf: (id: string) => string | undefined): Promise<string[]> {
    const done: string[] = [];
    for (const id of this.store.containersWithEndpoints()) {
      if (running.has(id)) continue;
      const eps = this.store.endpointsOf(id);
      if (!eps.some((e) => e.active || e.ipAddress !== '')) continue;
      await this.teardownOrphan(id, nameOf(id) ?? id.slice(0, 12));
      done.push(id);
    }
    return done;
  }

  /** The networks a container is on, with its endpoint on each, in connect order. */
  networksOf(containerId: string): Array<{ network: NetworkRecord; endpoint: EndpointRecord }> {
    return this.store.endpointsOf(containerId).map((endpoint) => ({ network: this.store.resolve(endpoint.networkId), endpoint }));
  }
}

/**
 * An empty network namespace held by a short-lived child (`unshare --net`),
 * reachable as `/proc/<pid>/ns/net`; nothing is mounted anywhere.
 */
export class FreshNamespace {
  private constructor(private readonly child: ChildProcess, readonly path: string) {}

  static open(): Promise<FreshNamespace> {
    return new Promise((resolve, reject) => {
      // `read` waits on its stdin, which berth closes (or which dies with berth): no timer to outlive.
      const child = spawn('unshare', ['--net', '--', 'sh', '-c', 'echo ready; read _'], { stdio: ['pipe', 'pipe', 'inherit'] });
      child.once('error', (error) => reject(new NetworkError('Netavark', `failed to make a network namespace: ${error.message}`, { cause: error })));
      child.stdout!.once('data', () => resolve(new FreshNamespace(child, `/proc/${child.pid}/ns/net`)));
      child.once('exit', (code) => reject(new NetworkError('Netavark', `failed to make a network namespace: unshare exited ${code}`)));
    });
  }

  close(): void {
    this.child.stdin?.end();
    this.child.kill('SIGKILL');
  }
}
