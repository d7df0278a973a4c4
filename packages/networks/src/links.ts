/**
 * Docker's legacy links (`--link other:alias` on the default bridge): the
 * variables dockerd 20.10 gives the linking container (moby's
 * `links.Link.ToEnv`), checked against a real dockerd. Pure.
 */

export interface LinkTarget {
  /** The link's name as dockerd records it: `/<this container>/<alias>`. */
  name: string;
  /** The linked container's address on the default bridge. */
  ip: string;
  /** Its `Config.Env` (HOME and PATH are not passed on). */
  env: readonly string[];
  /** Its `Config.ExposedPorts` keys, `80/tcp`. */
  exposedPorts: readonly string[];
}

interface Port { port: number; proto: string }

/** dockerd's order: by number, tcp first among equal numbers. */
function sortedPorts(keys: readonly string[]): Port[] {
  const ports = keys.map((k) => {
    const [port = '0', proto = 'tcp'] = k.split('/');
    return { port: Number(port), proto: proto.toLowerCase() };
  });
  return ports.sort((a, b) => a.port - b.port || (a.proto === 'tcp' ? -1 : b.proto === 'tcp' ? 1 : 0));
}

/** moby's `nextContiguous`: the last index of the run of consecutive numbers from `index` (protocols ignored, as there). */
function runEnd(ports: readonly Port[], index: number): number {
  let value = ports[index]!.port;
  for (let i = index + 1; i < ports.length; i++) {
    if (ports[i]!.port > value + 1) return i - 1;
    value++;
  }
  return ports.length - 1;
}

/** The variables of one link, in dockerd's order (duplicates included: `linkEnvironment` keeps the first place). */
export function linkVariables(l: LinkTarget): string[] {
  const alias = (l.name.split('/').pop() ?? l.name).toUpperCase().replace(/-/g, '_');
  const ports = sortedPorts(l.exposedPorts);
  const url = (p: Port): string => `${p.proto}://${l.ip}:${p.port}`;
  const key = (p: Port, q: Port = p): string => `${alias}_PORT_${p.port}_${q.proto.toUpperCase()}`;
  const env: string[] = [];
  if (ports[0]) env.push(`${alias}_PORT=${url(ports[0])}`);
  for (let i = 0; i < ports.length;) {
    const j = runEnd(ports, i);
    if (j > i + 1) {
      const p = ports[i]!;
      const q = ports[j]!;
      env.push(`${key(p)}_START=${url(p)}`, `${key(p)}_ADDR=${l.ip}`, `${key(p)}_PROTO=${p.proto}`, `${key(p)}_PORT_START=${p.port}`);
      env.push(`${key(p, q)}_END=${url(q)}`, `${key(p, q)}_PORT_END=${q.port}`);
      i = j + 1;
    } else {
      i++;
    }
  }
  for (const p of ports) env.push(`${key(p)}=${url(p)}`, `${key(p)}_ADDR=${l.ip}`, `${key(p)}_PORT=${p.port}`, `${key(p)}_PROTO=${p.proto}`);
  env.push(`${alias}_NAME=${l.name}`);
  for (const v of l.env) {
    const eq = v.indexOf('=');
    if (eq < 0) continue;
    const k = v.slice(0, eq);
    if (k === 'HOME' || k === 'PATH') continue;
    env.push(`${alias}_ENV_${k}=${v.slice(eq + 1)}`);
  }
  return env;
}

/** Every link's variables, one entry per name in its first place with its last value (as the container ends up with). */
export function linkEnvironment(links: readonly LinkTarget[]): string[] {
  const out: string[] = [];
  const at = new Map<string, number>();
  for (const v of links.flatMap(linkVariables)) {
    const k = v.slice(0, v.indexOf('='));
    const i = at.get(k);
    if (i === undefined) {
      at.set(k, out.length);
      out.push(v);
    } else {
      out[i] = v;
    }
  }
  return out;
}
