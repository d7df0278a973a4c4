/**
 * The bodies of `GET /info` and `GET /version`: every field Docker 20.10
 * returns (clients index them), with berth's true values, and Docker's zero
 * values for what berth has not (no swarm, no containerd, no runc commit).
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { cpus, hostname, machine, release, totalmem } from 'node:os';
import { rfc3339Nano } from '../json-log.js';
import { securityOptions } from '../security-options.js';
import { API_VERSION, BERTH_VERSION, MIN_API_VERSION } from './http-util.js';

/** Go's GOARCH names, which `/version` uses (`/info`'s Architecture is `uname -m`). */
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
const ARCH = GOARCH[process.arch] ?? process.arch;

/** `/etc/os-release` as Docker reads it for OperatingSystem and OSVersion. */
function osRelease(): { prettyName: string; versionId: string } {
  let text = '';
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      text = readFileSync(path, 'utf8');
      break;
    } catch { /* try the next */ }
  }
  const field = (key: string): string => {
    const m = new RegExp(`^${key}=(.*)$`, 'm').exec(text);
    return m ? m[1]!.trim().replace(/^["']|["']$/g, '') : '';
  };
  return { prettyName: field('PRETTY_NAME') || 'Linux', versionId: field('VERSION_ID') };
}

function readFlag(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

export interface InfoCounts {
  containers: number;
  running: number;
  /** Running containers that are frozen (dockerd counts them apart from the running ones). */
  paused: number;
  images: number;
  eventListeners: number;
  root: string;
}

/** `GET /info`: Docker 20.10's field set. */
export function systemInfo(c: InfoCounts): Record<string, unknown> {
  const os = osRelease();
  const emptyCommit = { ID: '', Expected: '' };
  return {
    ID: '', Containers: c.containers, ContainersRunning: c.running - c.paused, ContainersPaused: c.paused, ContainersStopped: c.containers - c.running,
    Images: c.images, Driver: 'overlay2', DriverStatus: [], SystemTime: rfc3339Nano(),
    Plugins: { Volume: ['local'], Network: ['none', 'host'], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true, SwapLimit: false, KernelMemory: false, KernelMemoryTCP: false, CpuCfsPeriod: true, CpuCfsQuota: true,
    CPUShares: false, CPUSet: false, PidsLimit: true, OomKillDisable: false,
    IPv4Forwarding: readFlag('/proc/sys/net/ipv4/ip_forward'), BridgeNfIptables: false, BridgeNfIp6tables: false,
    Debug: false, NFd: openFds(), NGoroutines: 0, NEventsListener: c.eventListeners, LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs', CgroupVersion: existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1',
    KernelVersion: release(), OperatingSystem: os.prettyName, OSVersion: os.versionId, OSType: 'linux', Architecture: machine(),
    IndexServerAddress: '', RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [], InsecureRegistryCIDRs: [], IndexConfigs: {}, Mirrors: [],
    },
    NCPU: cpus().length, MemTotal: totalmem(), GenericResources: null, DockerRootDir: c.root,
    HttpProxy: '', HttpsProxy: '', NoProxy: '', Name: hostname(), Labels: [], ExperimentalBuild: false, ServerVersion: BERTH_VERSION,
    // berth has one runtime, built in; the field names what a container runs with.
    Runtimes: { berth: { path: 'berth-init' } }, DefaultRuntime: 'berth',
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    // Containers outlive the supervisor and are re-adopted by the next one: what Docker calls live restore.
    LiveRestoreEnabled: true, Isolation: '', InitBinary: '',
    ContainerdCommit: emptyCommit, RuncCommit: emptyCommit, InitCommit: emptyCommit,
    SecurityOptions: securityOptions(), Warnings: null,
  };
}

/** `GET /version`: Docker 20.10's field set. */
export function systemVersion(): Record<string, unknown> {
  const details = {
    ApiVersion: API_VERSION, Arch: ARCH, BuildTime: '', Experimental: 'false', GitCommit: '', GoVersion: '',
    KernelVersion: release(), MinAPIVersion: MIN_API_VERSION, Os: 'linux',
  };
  return {
    Platform: { Name: 'berth' },
    Components: [{ Name: 'Engine', Version: BERTH_VERSION, Details: details }],
    Version: BERTH_VERSION, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: '', GoVersion: '',
    Os: 'linux', Arch: ARCH, KernelVersion: release(), BuildTime: '',
  };
}
