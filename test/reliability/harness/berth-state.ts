/**
 * Reads a berth root from the outside, the way an auditor would: the three
 * SQLite databases (read-only) and the directories they describe, and says
 * where they disagree. Used between crashes, so it never writes.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface BerthState {
  volumes: string[];
  /** volume name -> container ids holding a reference. */
  refs: Map<string, string[]>;
  layers: string[];
  layerContainers: string[];
  images: string[];
  /** supervisor container id -> state. */
  containers: Map<string, string>;
  dirs: { volumes: string[]; layers: string[]; containers: string[]; supervisor: string[] };
  volumesWithoutData: string[];
  /** networks.db: endpoints holding an address or set up (active), and containers with published ports. */
  endpoints: { container: string; network: string; ip: string; active: boolean }[];
  portContainers: string[];
  /** bridge network id -> its bridge's name. */
  bridges: Map<string, string>;
  /** `PRAGMA integrity_check` of each database ('ok' when sound). */
  integrity: Record<string, string>;
}

function readDb<T>(file: string, fn: (db: InstanceType<typeof Database>) => T): T | undefined {
  if (!existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);
const col = (db: InstanceType<typeof Database>, sql: string): string[] =>
  (db.prepare(sql).all() as Record<string, string>[]).map((r) => Object.values(r)[0] as string).sort();

export function readBerthState(root: string): BerthState {
  const integrity: Record<string, string> = {};
  const check = (name: string, db: InstanceType<typeof Database>): void => {
    integrity[name] = String(db.pragma('integrity_check', { simple: true }));
  };
  const vol = readDb(join(root, 'volumes', 'metadata.db'), (db) => {
    check('volumes', db);
    const refs = new Map<string, string[]>();
    for (const r of db.prepare('SELECT volume, container FROM refs ORDER BY volume, container').all() as { volume: string; container: string }[]) {
      refs.set(r.volume, [...(refs.get(r.volume) ?? []), r.container]);
    }
    return { names: col(db, 'SELECT name FROM volumes'), refs };
  });
  const lay = readDb(join(root, 'metadata.db'), (db) => {
    check('layers', db);
    return { layers: col(db, 'SELECT id FROM layers'), containers: col(db, 'SELECT id FROM containers'), images: col(db, 'SELECT id FROM images') };
  });
  const sup = readDb(join(root, 'supervisor.db'), (db) => {
    check('supervisor', db);
    return new Map((db.prepare('SELECT id, state FROM containers').all() as { id: string; state: string }[]).map((r) => [r.id, r.state]));
  });
  const net = readDb(join(root, 'networks.db'), (db) => {
    check('networks', db);
    const endpoints = (db.prepare("SELECT container, network, ip, active FROM endpoints WHERE ip <> '' OR active <> 0").all() as
      { container: string; network: string; ip: string; active: number }[]).map((e) => ({ ...e, active: e.active !== 0 }));
    const bridges = new Map((db.prepare("SELECT id, bridge_name FROM networks WHERE driver = 'bridge'").all() as
      { id: string; bridge_name: string }[]).map((n) => [n.id, n.bridge_name]));
    return { endpoints, bridges, portContainers: col(db, 'SELECT DISTINCT container FROM ports') };
  });
  // `.trash` holds removed volumes' directories until a worker deletes them (the store empties it at open).
  const volumeDirs = list(join(root, 'volumes')).filter((n) => !n.startsWith('metadata.db') && n !== '.trash');
  return {
    endpoints: net?.endpoints ?? [],
    portContainers: net?.portContainers ?? [],
    bridges: net?.bridges ?? new Map(),
    volumesWithoutData: volumeDirs.filter((n) => !existsSync(join(root, 'volumes', n, '_data'))),
    volumes: vol?.names ?? [],
    refs: vol?.refs ?? new Map(),
    layers: lay?.layers ?? [],
    layerContainers: lay?.containers ?? [],
    images: lay?.images ?? [],
    containers: sup ?? new Map(),
    dirs: {
      volumes: volumeDirs,
      layers: list(join(root, 'layers')),
      containers: list(join(root, 'containers')),
      supervisor: list(join(root, 'supervisor')),
    },
    integrity,
  };
}

const minus = (a: readonly string[], b: readonly string[]): string[] => a.filter((x) => !b.includes(x));

/**
 * Every disagreement between metadata and disk, as readable strings (empty
 * when consistent). Run while nothing is in flight: a temporary directory
 * then means a crash left one behind that the restart's reconcile missed.
 */
export function inconsistencies(s: BerthState): string[] {
  const out: string[] = [];
  for (const [db, result] of Object.entries(s.integrity)) if (result !== 'ok') out.push(`${db} database: integrity_check says ${result}`);
  for (const n of minus(s.dirs.volumes, s.volumes)) out.push(`volumes/${n}: a directory without metadata (orphan)`);
  for (const n of minus(s.volumes, s.dirs.volumes)) out.push(`volume ${n}: metadata without a directory`);
  for (const n of s.volumesWithoutData) out.push(`volumes/${n}: no _data directory`);
  for (const n of minus(s.dirs.layers, s.layers)) out.push(`layers/${n}: a directory without metadata (orphan)`);
  for (const n of minus(s.layers, s.dirs.layers)) out.push(`layer ${n}: metadata without a directory`);
  // A live supervisor's sandboxes built ahead have spare layers under temporary names, and a removed
  // container's directory is deleted after the removal answers, under `.del-*` (both removed at its
  // stop, and by the layer store's start-up after a kill); the test's end checks none is left.
  const containerDirs = s.dirs.containers.filter((n) => !n.startsWith('.tmp-sandbox-') && !n.startsWith('.del-'));
  for (const n of minus(containerDirs, s.layerContainers)) out.push(`containers/${n}: a directory without metadata (orphan)`);
  for (const n of minus(s.layerContainers, s.dirs.containers)) out.push(`container layer ${n}: metadata without a directory`);
  const supervised = [...s.containers.keys()];
  for (const n of minus(s.layerContainers, supervised)) out.push(`container layer ${n}: no container record in the supervisor (leaked)`);
  // A removed container's own directory is deleted after the removal answers, under `.del-*` too.
  for (const n of minus(s.dirs.supervisor.filter((d) => !d.startsWith('.del-')), supervised)) out.push(`supervisor/${n}: a directory without a container record (orphan)`);
  for (const [id, state] of s.containers) {
    if (state !== 'created' && !s.layerContainers.includes(id)) out.push(`container ${id} (${state}): has run but has no layer record`);
    if (state === 'removing' || state === 'dead') out.push(`container ${id}: left in state ${state}`);
  }
  for (const [volume, holders] of s.refs) {
    if (!s.volumes.includes(volume)) out.push(`volume ${volume}: references without a volume`);
    for (const c of minus(holders, supervised)) out.push(`volume ${volume}: referenced by container ${c}, which does not exist`);
  }
  // Networks: only a running container holds an address, ports or a set-up endpoint.
  for (const e of s.endpoints) {
    const state = s.containers.get(e.container);
    if (state !== 'running') out.push(`network endpoint of ${e.container} on ${e.network}: ${e.active ? 'set up' : `address ${e.ip} held`} while the container is ${state ?? 'gone'}`);
  }
  for (const c of s.portContainers) {
    if (s.containers.get(c) !== 'running') out.push(`published ports of ${c} held while the container is ${s.containers.get(c) ?? 'gone'}`);
  }
  return out;
}

/**
 * What the host shows of berth's networks against its records: every
 * bridge's ports (veths) are the running containers' endpoints on it, and a
 * bridge with none does not exist. Reads /sys only.
 */
export function networkLeaks(s: BerthState): string[] {
  const out: string[] = [];
  for (const [network, bridge] of s.bridges) {
    const wanted = s.endpoints.filter((e) => e.network === network && e.active).length;
    const brif = join('/sys/class/net', bridge, 'brif');
    const have = existsSync(brif) ? readdirSync(brif).length : -1;
    if (wanted === 0 && have !== -1) out.push(`bridge ${bridge} of network ${network.slice(0, 12)} exists with ${have} interfaces and no endpoint`);
    if (wanted > 0 && have !== wanted) out.push(`bridge ${bridge} of network ${network.slice(0, 12)} has ${Math.max(have, 0)} interfaces for ${wanted} endpoints`);
  }
  return out;
}

/** 64 hex characters: the name Docker (and berth) gives an anonymous volume. */
export const isAnonymousName = (name: string): boolean => /^[0-9a-f]{64}$/.test(name);
