/** The shape of one benchmark run: what the JSON file holds and the writers read. */
import type { LinearFit, PairedRatio, Summary } from './stats.js';

export interface MachineFacts {
  kernel: string;
  cores: number;
  cpuModel: string;
  node: string;
  /** 1, 5 and 15 minute load averages at the start and at the end of the run (the machine is shared). */
  loadAverageStart: number[];
  loadAverageEnd: number[];
  cgroup: string;
  /** Peer name → `--version` first line, or "not installed". */
  peers: Record<string, string>;
}

/** A runtime's row: a summary, or why there is none. */
export interface LatencyRow {
  name: string;
  /** Exactly what was run (argv, or a description for library calls). */
  command: string;
  status: 'ok' | 'not installed' | 'unavailable' | 'broken';
  reason?: string;
  samples: number[];
  summary?: Summary;
  /** Pair by pair with crun in the same interleaved run. */
  ratioToCrun?: PairedRatio;
}

export interface MountGrowthRow {
  name: string;
  status: LatencyRow['status'];
  reason?: string;
  /** Mount count → p50 ms. */
  points: { mounts: number; p50: number; samples: number }[];
  fit?: LinearFit;
}

export interface ThroughputRow {
  inFlight: number;
  launches: number;
  seconds: number;
  perSecond: number;
}

export interface TimedStep {
  name: string;
  ms: number;
  note?: string;
}

export interface ImportRow {
  image: string;
  bytes: number;
  berthMBps: number;
  tarMBps: number;
  berthMs: number;
  tarMs: number;
  /** Interleaved repeats behind the medians, and each side's fastest and slowest (absent in older reports). */
  repeats?: number;
  berthRangeMs?: [number, number];
  tarRangeMs?: [number, number];
}

export interface PullRow {
  image: string;
  berthMs: number;
  podmanMs?: number;
  podmanMissing?: string;
}

export interface MemoryRow {
  name: string;
  rssMB: number;
  note?: string;
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | 'n/a';
  note?: string;
}

/** What the library's sandbox pools cost and did over the whole run. */
export interface SandboxPoolFacts {
  workers: number;
  /** Sandboxes each worker keeps (RuntimeOptions.sandboxes). */
  perWorker: number;
  /** Parked when measured (after the latency case), and their resident memory (shim + stub). */
  parked: number;
  rssKbPerSandbox: number;
  built: number;
  used: number;
  discarded: number;
  /** Worker-thread time to build one (its share of every launch's cost). */
  buildMsPerSandbox: number;
  /** Launches served by a sandbox, of all library launches. */
  launches: number;
}

export interface BenchReport {
  startedAt: string;
  quick: boolean;
  runs: number;
  warmup: number;
  durationS: number;
  machine: MachineFacts;
  latencyLib: { hundredSequentialMs: number; setupMs: Summary | undefined; cleanupMs: Summary | undefined };
  latency: LatencyRow[];
  mountCounts: number[];
  mountGrowth: MountGrowthRow[];
  throughput: { poolSize: number; rows: ThroughputRow[] };
  /** The library rows' sandboxes built ahead (absent in reports from before they existed). */
  sandboxes?: SandboxPoolFacts;
  volumes: TimedStep[];
  imports: ImportRow[];
  pull?: PullRow;
  memory: MemoryRow[];
  /** Case 7: seccomp's cost (compile once, then a lookup per launch); absent in reports from before it existed. */
  seccomp?: TimedStep[];
  targets: TargetCheck[];
  hostMountsUnchanged: boolean;
  notes: string[];
}
