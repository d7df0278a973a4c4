import type { ServerResponse } from 'node:http';
import type { ContainerRecord } from '../container-store.js';
import { containerInspect, containerSummary } from '../docker-shapes.js';
import { containerSizes } from '../disk-usage.js';
import { containerProcesses, TOP_TITLES } from '../top.js';
import { ConflictError, InvalidParameterError, NotImplementedError } from '../errors.js';
import { parseLogConfig } from '../log-config.js';
import { DEFAULT_DETACH_KEYS, detachKeyBytes } from '../detach-keys.js';
import { hostPlatform, parsePlatform } from '@berth/layers';
import { errorKind } from '@berth/syscall';
import { selectContainers } from '../container-filters.js';
import { Filters, pruneUntil } from '../filters.js';
import { parseTail } from '../json-log.js';
import type { WaitCondition } from '../lifecycle.js';
import type { ApiDeps } from './deps.js';
import { commonHeaders, queryBool, queryDimension, queryInt, readJsonBody, sendEmpty, sendJson } from './http-util.js';
import type { Router } from './router.js';
import { contentTypeFor, feedStdin, type OutputRequest, type StreamSink, streamOutput, writeUpgraded } from './streams.js';

const ID = '([^/]+)';

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

/** Attach's `detachKeys=`, checked as Docker checks it; undefined when not given (the default applies). */
function attachDetachKeys(query: URLSearchParams): Buffer | undefined {
  const raw = query.get('detachKeys') ?? '';
  if (raw === '') return undefined;
  try {
    return detachKeyBytes(raw);
  } catch {
    throw new InvalidParameterError(`Invalid detach keys (${raw}) provided`);
  }
}

/** dockerd refuses to attach to a frozen container (its text, lower-case `container`, the name as given). */
function refusePaused(lc: ApiDeps['lifecycle'], id: string, ref: string): void {
  if (lc.isPaused(id)) throw new ConflictError(`container ${ref} is paused, unpause the container before attach`);
}

function responseSink(res: ServerResponse): StreamSink {
  return {
    write: (buf) => { if (!res.writableEnded) res.write(buf); },
    end: () => { if (!res.writableEnded) res.end(); },
    onClose: (fn) => { res.on('close', fn); },
  };
}

/**
 * The create's `platform` (API 1.41, `docker run --platform`): the host's
 * is what every container runs as; another is refused by name, never
 * ignored (berth keeps one image per reference and runs no emulation).
 */
function refuseOtherPlatform(spec: string): void {
  if (spec === '') return;
  const wanted = parsePlatform(spec);
  const host = hostPlatform();
  if (wanted.os === host.os && wanted.architecture === host.architecture && (wanted.variant ?? '') === (host.variant ?? '')) return;
  const name = [wanted.os, wanted.architecture, wanted.variant].filter(Boolean).join('/');
  throw new NotImplementedError(`berth does not implement creating a container for platform ${name}: it runs ${[host.os, host.architecture, host.variant].filter(Boolean).join('/')} only`);
}

export function containerRoutes(r: Router, d: ApiDeps): void {
  const lc = d.lifecycle;

  r.on('POST', /^\/containers\/create$/, async ({ req, res, query }) => {
    const body = await readJsonBody(req);
    if (body === undefined) throw new InvalidParameterError('config cannot be empty in order to create a container');
    const name = query.get('name') ?? undefined;
    refuseOtherPlatform(query.get('platform') ?? '');
    sendJson(res, 201, await lc.create(body, name || undefined));
  });

  r.on('GET', /^\/containers\/json$/, async ({ res, query }) => {
    const list = await selectContainers({
      all: queryBool(query.get('all')),
      limit: queryInt(query.get('limit'), 'limit'),
      filters: Filters.parse(query.get('filters')).accept('GET /containers/json'),
    }, {
      containers: lc.store.list(),
      isRestarting: (id) => lc.isRestarting(id),
      isPaused: (id) => lc.isPaused(id),
      resolve: (ref) => lc.store.resolve(ref),
      imageId: async (ref) => {
        try {
          return (await d.images.inspectImage(ref)).id;
        } catch (err) {
          // dockerd skips an ancestor it cannot find: it then matches nothing.
          if (errorKind(err) === 'not-found') return undefined;
          throw err;
        }
      },
    });
    sendJson(res, 200, list.map((c) => ({
      ...containerSummary(c, d.root, lc.mountPoints(c), lc.isRestarting(c.id), lc.isPaused(c.id)),
      // networks: Ports and NetworkSettings from @berth/networks.
      ...(d.networks?.summaryOf(c, lc.isRunning(c.id)) ?? {}),
    })));
  });

  r.on('POST', /^\/containers\/prune$/, async ({ res, query }) => {
    const filters = Filters.parse(query.get('filters')).accept('POST /containers/prune');
    const until = pruneUntil(filters, Date.now() / 1000);
    // moby's prune: every label must match, and a container that matches all label! values stays.
    const keep = (c: ContainerRecord): boolean =>
      !filters.matchKVList('label', c.config.Labels) ||
      (filters.contains('label!') && filters.matchKVList('label!', c.config.Labels)) ||
      (until !== undefined && Date.parse(c.created) / 1000 > until);
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
    const shape = containerInspect(rec, d.root, lc.mountPoints(rec), lc.isRestarting(rec.id), lc.isPaused(rec.id));
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

  r.on('GET', new RegExp(`^/containers/${ID}/logs$`), ({ res, params, query, apiVersion }) => {
    const rec = lc.store.resolve(params[0]!);
    if (parseLogConfig(rec.hostConfig.LogConfig).driver === 'none') throw new NotImplementedError('configured logging driver does not support reading');
    const q = outputRequest(query, 'logs');
    if (!q.stdout && !q.stderr) throw new InvalidParameterError('Bad parameters: you must choose at least one stream');
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': contentTypeFor(rec, apiVersion) });
    res.flushHeaders();
    streamOutput(lc, d.root, rec, q, responseSink(res));
  });

  // dockerode's default attach: a plain 200 with the stream as the body.
  r.on('POST', new RegExp(`^/containers/${ID}/attach$`), ({ res, params, query, apiVersion }) => {
    const rec = lc.store.resolve(params[0]!);
    refusePaused(lc, rec.id, params[0]!);
    attachDetachKeys(query);
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': contentTypeFor(rec, apiVersion) });
    res.flushHeaders();
    streamOutput(lc, d.root, rec, outputRequest(query, 'attach'), responseSink(res));
  });

  // The docker CLI's attach: `Upgrade: tcp` → `101 UPGRADED`, then the raw socket.
  r.onUpgrade(new RegExp(`^/containers/${ID}/attach$`), ({ socket, params, query, apiVersion }) => {
    const rec = lc.store.resolve(params[0]!);
    refusePaused(lc, rec.id, params[0]!);
    const keys = attachDetachKeys(query);
    writeUpgraded(socket, contentTypeFor(rec, apiVersion));
    socket.on('error', () => socket.destroy());
    const tty = rec.config.Tty === true;
    const stdin = queryBool(query.get('stdin')) ? lc.stdinFor(rec.id) : undefined;
    // On a terminal the detach keys end the session and leave the container running, as with Docker.
    const detach = tty && stdin ? {
      keys: keys ?? DEFAULT_DETACH_KEYS,
      onDetach: () => {
        if (!socket.writableEnded) socket.end();
        lc.publish('detach', rec);
      },
    } : undefined;
    // The CLI half-closes once its stdin ends; with StdinOnce (`run -i`) so does the container's,
    // unless it has a terminal (Docker never closes a terminal's input when a client leaves).
    feedStdin(socket, stdin, { endOnHalfClose: rec.config.StdinOnce === true && !tty, ...(detach ? { detach } : {}) });
    streamOutput(lc, d.root, rec, outputRequest(query, 'attach'), {
      write: (buf) => { if (!socket.writableEnded && !socket.destroyed) socket.write(buf); },
      end: () => { if (!socket.writableEnded) socket.end(); },
      onClose: (fn) => { socket.on('close', fn); },
    });
  });
}
