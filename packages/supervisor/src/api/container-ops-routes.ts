import type { ContainerSample } from '@berth/runtime';
import type { ContainerRecord } from '../container-store.js';
import { InvalidParameterError, NotImplementedError } from '../errors.js';
import { pauseContainer, unpauseContainer } from '../pause.js';
import { statsJson } from '../stats.js';
import { updateContainer } from '../update.js';
import type { ApiDeps } from './deps.js';
import { commonHeaders, queryBool, readJsonBody, sendEmpty, sendJson } from './http-util.js';
import type { Router } from './router.js';

const ID = '([^/]+)';
/** dockerd's collector reads every container once a second. */
const STATS_INTERVAL_MS = 1000;

/** `docker stats`, `docker pause`/`unpause`, `docker update`. */
export function containerOpsRoutes(r: Router, d: ApiDeps): void {
  const lc = d.lifecycle;

  /** A reading of a running container; undefined when it does not run (or stopped while being read). */
  const sampleOf = (rec: ContainerRecord): ContainerSample | undefined => {
    const live = lc.liveProcess(rec.id);
    if (!live) return undefined;
    if (!d.engine?.stats) throw new NotImplementedError('this engine cannot read container stats');
    try {
      // --network host: the host's interfaces are not the container's (dockerd shows none).
      return d.engine.stats(rec.id, rec.hostConfig.NetworkMode === 'host' ? undefined : live.pid);
    } catch (error) {
      if (!lc.isRunning(rec.id)) return undefined;
      throw error;
    }
  };

  r.on('GET', new RegExp(`^/containers/${ID}/stats$`), async ({ res, params, query }) => {
    const rec = lc.store.resolve(params[0]!);
    const stream = queryBool(query.get('stream'), true);
    const oneShot = queryBool(query.get('one-shot'));
    if (stream && oneShot) throw new InvalidParameterError('cannot have stream=true and one-shot=true');
    if (!stream) {
      let pre: ContainerSample | undefined;
      let sample = sampleOf(rec);
      // Without one-shot dockerd answers with two readings a collector period apart, so CPU % can be computed.
      if (sample && !oneShot) {
        pre = sample;
        await new Promise((resolve) => setTimeout(resolve, STATS_INTERVAL_MS));
        sample = sampleOf(rec);
      }
      sendJson(res, 200, statsJson(lc.store.find(rec.id) ?? rec, sample, sample ? pre : undefined));
      return;
    }
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/json' });
    let pre: ContainerSample | undefined;
    const frame = (): void => {
      const current = lc.store.find(rec.id);
      if (!current) {
        res.end();
        return;
      }
      const sample = sampleOf(current);
      res.write(JSON.stringify(statsJson(current, sample, pre)) + '\n');
      pre = sample;
    };
    frame();
    const timer = setInterval(() => {
      try {
        frame();
      } catch (error) {
        console.error(`berth: stats of ${rec.id.slice(0, 12)} ended: ${(error as Error).message}`);
        res.destroy();
      }
    }, STATS_INTERVAL_MS);
    res.on('close', () => clearInterval(timer));
  });

  r.on('POST', new RegExp(`^/containers/${ID}/pause$`), async ({ res, params }) => {
    await pauseContainer(lc, d.engine, params[0]!);
    sendEmpty(res, 204);
  });

  r.on('POST', new RegExp(`^/containers/${ID}/unpause$`), async ({ res, params }) => {
    await unpauseContainer(lc, d.engine, params[0]!);
    sendEmpty(res, 204);
  });

  r.on('POST', new RegExp(`^/containers/${ID}/update$`), async ({ req, res, params }) => {
    const ref = params[0]!;
    lc.store.resolve(ref); // 404 before the body is judged
    sendJson(res, 200, updateContainer(lc, d.engine, ref, await readJsonBody(req)));
  });
}
