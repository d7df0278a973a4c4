import type { ServerResponse } from 'node:http';
import type { ContainerRecord } from '../container-store.js';
import { containerInspect, containerSummary } from '../docker-shapes.js';
import { containerSizes } from '../disk-usage.js';
import { containerProcesses, TOP_TITLES } from '../top.js';
import { apiTime } from '../events.js';
import { ConflictError, InvalidParameterError } from '../errors.js';
import { parseTail } from '../json-log.js';
import type { WaitCondition } from '../lifecycle.js';
import type { ApiDeps } from './deps.js';
import { commonHeaders, parseFilters, queryBool, queryDimension, queryInt, readJsonBody, sendEmpty, sendJson } from './http-util.js';
import type { Router } from './router.js';
import { contentTypeFor, feedStdin, type OutputRequest, type StreamSink, streamOutput, writeUpgraded } from './streams.js';

const ID = '([^/]+)';

/** Docker's `ps` filters that berth knows: id, name, status, label, exited, volume, ancestor. */
export function filterContainers(list: ContainerRecord[], filters: Record<string, string[]>): ContainerRecord[] {
  return list.filter((c) => Object.entries(filters).every(([key, values]) => {
    if (values.length === 0) return true;
    return values.some((v) => {
      switch (key) {
        case 'id': return c.id.startsWith(v);
        case 'name': return c.name.includes(v.replace(/^\//, ''));
        case 'status': return c.state === v;
        case 'exited': return c.state === 'exited' && String(c.exitCode) === v;
        case 'ancestor': return c.image === v || c.imageId === v || c.imageId.startsWith(v);
        case 'volume': return c.mounts.some((m) => m.Name === v || m.Destination === v);
        case 'label': {
          const i = v.indexOf('=');
          const labels = c.config.Labels ?? {};
          return i < 0 ? v in labels : labels[v.slice(0, i)] === v.slice(i + 1);
        }
        default: throw new InvalidParameterError(`invalid filter '${key}'`);
      }
    });
  }));
}

function outputRequest(query: URLSearchParams, kind: 'attach' | 'logs'): OutputRequest {
  const stdout = queryBool(query.get('stdout'));
  const stderr = queryBool(query.get('stderr'));
  const since = query.get('since');
  const until = query.get('until');
  const tail = parseTail(query.get('tail') ?? undefined);
  return {
    stdout, stderr,
    ...(tail !== undefined ? { tail } : {}),
    ...(since ? { since: Number(since) } : {}),
    ...(until ? { until: Number(until) } : {}),
    logs: kind === 'logs' ? true : queryBool(query.get('logs')),
    follow: kind === 'logs' ? queryBool(query.get('follow')) : queryBool(query.get('stream')),
    timestamps: kind === 'logs' && queryBool(query.get('timestamps')),
  };
}

function responseSink(res: ServerResponse): StreamSink {
  return {
    write: (buf) => { if (!res.writableEnded) res.write(buf); },
    end: () => { if (!res.writableEnded) res.end(); },
    onClose: (fn) => { res.on('close', fn); },
  };
}

export function containerRoutes(r: Router, d: ApiDeps): void {
  const lc = d.lifecycle;

  r.on('POST', /^\/containers\/create$/, async ({ req, res, query }) => {
    const body = await readJsonBody(req);
    if (body === undefined) throw new InvalidParameterError('config cannot be empty in order to create a container');
    const name = query.get('name') ?? undefined;
    sendJson(res, 201, await lc.create(body, name || undefined));
  });

  r.on('GET', /^\/containers\/json$/, ({ res, query }) => {
    const all = queryBool(query.get('all'));
    const filters = parseFilters(query.get('filters'));
    let list = lc.store.list();
    if (!all && !filters['status']) list = list.filter((c) => c.state === 'running');
    list = filterContainers(list, filters);
    const limit = queryInt(query.get('limit'), 'limit');
    if (limit !== undefined && limit > 0) list = list.slice(0, limit);
    sendJson(res, 200, list.map((c) => ({ ...containerSummary(c, lc.isRestarting(c.id)), ...(d.networks?.summaryOf(c, lc.isRunning(c.id)) ?? {}) })));
  });

  r.on('POST', /^\/containers\/prune$/, async ({ res, query }) => {
    const filters = parseFilters(query.get('filters'));
    for (const key of Object.keys(filters)) {
      if (!['label', 'label!', 'until'].includes(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
    }
    const until = (filters['until'] ?? []).map((v) => apiTime(v, 'until filter') ?? Infinity);
    const keep = (c: ContainerRecord): boolean =>
      filterContainers([c], { label: filters['label'] ?? [] }).length === 0 ||
      (filters['label!'] ?? []).some((l) => filterContainers([c], { label: [l] }).length > 0) ||
      until.some((t) => Date.parse(c.created) / 1000 > t);
    const sizes = new Map(lc.store.list().map((c) => [c.id, Math.max(0, containerSizes(d.root, c, undefined).SizeRw)]));
    const removed = await lc.prune(keep);
    sendJson(res, 200, { ContainersDeleted: removed.length > 0 ? removed : null, SpaceReclaimed: removed.reduce((n, id) => n + (sizes.get(id) ?? 0), 0) });
  });

  r.on('GET', new RegExp(`^/containers/${ID}/top$`), ({ res, params, query }) => {
    const rec = lc.store.resolve(params[0]!);
    const psArgs = query.get('ps_args') ?? '';
    if (psArgs !== '' && psArgs !== '-ef') {
      throw new InvalidParameterError(`berth's top shows the columns of ps -ef; ps options '${psArgs}' are not supported`);
    }
    const live = lc.liveProcess(rec.id);
    const processes = live ? containerProcesses(live.pid) : undefined;
    if (!processes) throw new ConflictError(`Container ${rec.id} is not running`);
    sendJson(res, 200, { Titles: TOP_TITLES, Processes: processes });
  });

  r.on('POST', new RegExp(`^/containers/${ID}/rename$`), ({ res, params, query }) => {
    lc.rename(params[0]!, query.get('name') ?? '');
    sendEmpty(res, 204);
  });

  r.on('GET', new RegExp(`^/containers/${ID}/json$`), ({ res, params }) => {
    const rec = lc.store.resolve(params[0]!);
    const shape = containerInspect(rec, d.root, lc.isRestarting(rec.id));
    // networks: NetworkSettings from @berth/networks.
    if (d.networks) shape['NetworkSettings'] = d.networks.settingsOf(rec, lc.isRunning(rec.id));
    sendJson(res, 200, shape);
  });

  r.on('POST', new RegExp(`^/containers/${ID}/start$`), async ({ req, res, params }) => {
    await readJsonBody(req); // old clients send a HostConfig here; ignored as in API >= 1.24
    await lc.start(params[0]!);
    sendEmpty(res, 204);
  });

  r.on('POST', new RegExp(`^/containers/${ID}/restart$`), async ({ res, params, query }) => {
    const t = queryInt(query.get('t'), 't');
    await lc.restart(params[0]!, t, query.get('signal') || undefined);
    sendEmpty(res, 204);
  });

  r.on('POST', new RegExp(`^/containers/${ID}/stop$`), async ({ res, params, query }) => {
    const t = queryInt(query.get('t'), 't');
    const signal = query.get('signal') || undefined;
    await lc.stop(params[0]!, t, signal);
    sendEmpty(res, 204);
  });

  r.on('POST', new RegExp(`^/containers/${ID}/kill$`), async ({ res, params, query }) => {
    await lc.kill(params[0]!, query.get('signal') || undefined);
    sendEmpty(res, 204);
  });

  r.on('DELETE', new RegExp(`^/containers/${ID}$`), async ({ res, params, query }) => {
    await lc.remove(params[0]!, { force: queryBool(query.get('force')), removeVolumes: queryBool(query.get('v')) });
    sendEmpty(res, 204);
  });

  r.on('POST', new RegExp(`^/containers/${ID}/resize$`), ({ res, params, query }) => {
    lc.resize(params[0]!, queryDimension(query, 'h'), queryDimension(query, 'w'));
    sendEmpty(res, 200);
  });

  r.on('POST', new RegExp(`^/containers/${ID}/wait$`), ({ res, params, query }) => {
    const condition = (query.get('condition') || 'not-running') as WaitCondition;
    const waiter = lc.wait(params[0]!, condition);
    // The CLI sends `start` only once these headers arrive.
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/json' });
    res.flushHeaders();
    res.on('close', () => waiter.cancel());
    void waiter.result.then((result) => {
      if (!res.writableEnded) res.end(JSON.stringify(result) + '\n');
    });
  });

  r.on('GET', new RegExp(`^/containers/${ID}/logs$`), ({ res, params, query }) => {
    const rec = lc.store.resolve(params[0]!);
    const q = outputRequest(query, 'logs');
    if (!q.stdout && !q.stderr) throw new InvalidParameterError('Bad parameters: you must choose at least one stream');
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': contentTypeFor(rec) });
    res.flushHeaders();
    streamOutput(lc, d.root, rec, q, responseSink(res));
  });

  // dockerode's default attach: a plain 200 with the stream as the body.
  r.on('POST', new RegExp(`^/containers/${ID}/attach$`), ({ res, params, query }) => {
    const rec = lc.store.resolve(params[0]!);
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': contentTypeFor(rec) });
    res.flushHeaders();
    streamOutput(lc, d.root, rec, outputRequest(query, 'attach'), responseSink(res));
  });

  // The docker CLI's attach: `Upgrade: tcp` → `101 UPGRADED`, then the raw socket.
  r.onUpgrade(new RegExp(`^/containers/${ID}/attach$`), ({ socket, params, query }) => {
    const rec = lc.store.resolve(params[0]!);
    writeUpgraded(socket, contentTypeFor(rec));
    socket.on('error', () => socket.destroy());
    // The CLI half-closes once its stdin ends; with StdinOnce (`run -i`) so does the container's.
    feedStdin(socket, queryBool(query.get('stdin')) ? lc.stdinFor(rec.id) : undefined, { endOnHalfClose: rec.config.StdinOnce === true });
    streamOutput(lc, d.root, rec, outputRequest(query, 'attach'), {
      write: (buf) => { if (!socket.writableEnded && !socket.destroyed) socket.write(buf); },
      end: () => { if (!socket.writableEnded) socket.end(); },
      onClose: (fn) => { socket.on('close', fn); },
    });
  });
}
