/**
 * netavark 1.4 as berth drives it: one `setup` or `teardown` per endpoint,
 * with the static address berth chose and the full `network_info` each time
 * (netavark keeps no state of its own). Given `--config DIR`, netavark runs
 * aardvark-dns for networks with DNS; berth never writes bridges, veths or
 * firewall rules itself.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { NetavarkError } from './errors.js';
import { removeIdleNetavarkChains } from './firewall.js';
import type { EndpointRecord, NetworkRecord, PortMapping } from './types.js';

export const NETAVARK = '/usr/lib/podman/netavark';
export const AARDVARK_DNS = '/usr/lib/podman/aardvark-dns';

/** One endpoint's setup or teardown, as netavark's JSON wants it. */
export interface EndpointAttachment {
  containerId: string;
  /** The container's name (what aardvark-dns answers first). */
  containerName: string;
  network: NetworkRecord;
  endpoint: EndpointRecord;
  /** Published ports; only on the container's primary endpoint. */
  ports: readonly PortMapping[];
}

/** What netavark reports for the interface it made. */
export interface SetupResult {
  macAddress: string;
  /** aardvark-dns's address for this network (its gateway), when it has DNS. */
  dnsServers: string[];
}

/** The names aardvark-dns answers for a container: its aliases and short id (after its name, which netavark adds). */
export function dnsAliases(a: Pick<EndpointAttachment, 'containerId' | 'endpoint'>): string[] {
  const short = a.containerId.slice(0, 12);
  return [...new Set([...a.endpoint.aliases, short])];
}

/** netavark's options from Docker's bridge options. */
function driverOptions(n: NetworkRecord): Record<string, string> | null {
  const mtu = n.options['com.docker.network.driver.mtu'];
  return mtu !== undefined && mtu !== '1500' ? { mtu } : null;
}

/** The JSON netavark reads on stdin for one endpoint. Pure. */
export function netavarkConfig(a: EndpointAttachment): object {
  const { network: n, endpoint: ep } = a;
  if (ep.interfaceName === '' || ep.ipAddress === '') {
    throw new Error(`endpoint of ${a.containerId.slice(0, 12)} on ${n.name} has no interface or address yet`);
  }
  return {
    container_id: a.containerId,
    container_name: a.containerName,
    port_mappings: a.ports.map((p) => ({
      host_ip: p.hostIp, container_port: p.containerPort, host_port: p.hostPort, range: 1, protocol: p.protocol,
    })),
    networks: {
      [n.name]: {
        static_ips: [ep.ipAddress],
        static_mac: ep.macAddress,
        aliases: n.dns ? dnsAliases(a) : [],
        interface_name: ep.interfaceName,
      },
    },
    network_info: {
      [n.name]: {
        name: n.name,
        id: n.id,
        driver: 'bridge',
        network_interface: n.bridgeName,
        subnets: n.ipamConfig.map((c) => ({ subnet: c.Subnet, gateway: c.Gateway, ...(c.IPRange ? { lease_range: null } : {}) })),
        ipv6_enabled: false,
        internal: n.internal,
        dns_enabled: n.dns,
        options: driverOptions(n),
        ipam_options: { driver: 'host-local' },
      },
    },
  };
}

export interface NetavarkOptions {
  /** aardvark-dns's config and pid files (netavark's `--config`); berth's own, under its root or /run. */
  configDir: string;
  netavark?: string;
  aardvark?: string;
}

/**
 * Runs netavark. Each call is a child process; nothing here holds kernel
 * state. Calls run one at a time: netavark 1.4 takes no lock, and a
 * teardown of a network's last endpoint deletes the network's NAT chain
 * while a concurrent setup on the same network appends to it ("No
 * chain/target/match"). Podman serialises its netavark calls the same way.
 */
export class Netavark {
  /** The tail of the queue: every call and chain clean-up waits for the one before. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: NetavarkOptions) {
    mkdirSync(o.configDir, { recursive: true, mode: 0o700 });
  }

  /** Runs `work` after every netavark call queued before it has ended. */
  exclusive<T>(work: () => T | Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** netavark's shared chains removed when no network uses them, in turn with the calls (see firewall.ts). */
  removeIdleChains(): Promise<boolean> {
    return this.exclusive(() => removeIdleNetavarkChains());
  }

  async setup(netnsPath: string, a: EndpointAttachment): Promise<SetupResult> {
    const out = await this.run('setup', netnsPath, a);
    const parsed = JSON.parse(out || '{}') as Record<string, {
      interfaces?: Record<string, { mac_address?: string }>; dns_server_ips?: string[];
    }>;
    const status = parsed[a.network.name];
    return {
      macAddress: status?.interfaces?.[a.endpoint.interfaceName]?.mac_address ?? a.endpoint.macAddress,
      dnsServers: status?.dns_server_ips ?? [],
    };
  }

  async teardown(netnsPath: string, a: EndpointAttachment): Promise<void> {
    await this.run('teardown', netnsPath, a);
  }

  private run(verb: 'setup' | 'teardown', netnsPath: string, a: EndpointAttachment): Promise<string> {
    return this.exclusive(() => this.spawn(verb, netnsPath, a));
  }

  private spawn(verb: 'setup' | 'teardown', netnsPath: string, a: EndpointAttachment): Promise<string> {
    const args = ['--config', this.o.configDir, '--rootless', 'false', '--aardvark-binary', this.o.aardvark ?? AARDVARK_DNS, verb, netnsPath];
    return new Promise((resolve, reject) => {
      const child = spawn(this.o.netavark ?? NETAVARK, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      child.on('error', (error) => reject(new NetavarkError(verb, a.containerId, error.message, { cause: error })));
      child.on('close', (code) => {
        if (code === 0) return resolve(stdout);
        // netavark prints {"error": "..."} on stdout; aardvark's syslog noise goes to stderr.
        let detail = stdout.trim() || stderr.trim() || `exit ${code}`;
        try { detail = (JSON.parse(stdout) as { error?: string }).error ?? detail; } catch { /* not JSON */ }
        reject(new NetavarkError(verb, a.containerId, detail));
      });
      child.stdin.end(JSON.stringify(netavarkConfig(a)));
    });
  }
}
