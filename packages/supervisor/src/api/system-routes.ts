import { containerSizes, layersSize, volumesWithUsage } from '../disk-usage.js';
import { containerSummary } from '../docker-shapes.js';
import { eventMatcher, apiTime, type DockerEvent } from '../events.js';
import type { ApiDeps } from './deps.js';
import { Filters } from '../filters.js';
import { commonHeaders, sendJson } from './http-util.js';
import { imageSummary } from './image-routes.js';
import type { Router } from './router.js';
import { systemInfo, systemVersion } from './system-info.js';

export function systemRoutes(r: Router, d: ApiDeps): void {
  // `docker events`: what is kept since `since`, then live until `until` (or until the client goes).
  r.on('GET', /^\/events$/, ({ req, res, query }) => {
    const matches = eventMatcher(Filters.parse(query.get('filters')).accept('GET /events'));
    const since = apiTime(query.get('since'), 'since');
    const until = apiTime(query.get('until'), 'until');
    const bus = d.lifecycle.events;
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/json' });
    res.flushHeaders();
    const send = (e: DockerEvent): void => {
      if (matches(e) && (until === undefined || e.timeNano / 1e9 <= until)) res.write(JSON.stringify(e) + '\n');
    };
    if (since !== undefined) for (const e of bus.replay(since)) send(e);
    const nowS = Date.now() / 1000;
    if (until !== undefined && until <= nowS) {
      res.end();
      return;
    }
    const unsubscribe = bus.subscribe(send);
    const timer = until === undefined ? undefined : setTimeout(() => res.end(), (until - nowS) * 1000);
    const stop = (): void => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
    res.on('close', stop);
    req.on('close', stop);
  });

  r.on('GET', /^\/_ping$/, ({ req, res }) => {
    res.writeHead(200, {
      ...commonHeaders(), 'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-cache, no-store, must-revalidate', 'Pragma': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : 'OK');
  });

  r.on('GET', /^\/version$/, ({ res }) => {
    sendJson(res, 200, systemVersion());
  });

  r.on('GET', /^\/info$/, async ({ res }) => {
    const containers = d.lifecycle.store.list();
    const images = await d.images.listImages();
    sendJson(res, 200, systemInfo({
      containers: containers.length, running: containers.filter((c) => c.state === 'running').length,
      paused: containers.filter((c) => d.lifecycle.isPaused(c.id)).length,
      images: images.length, eventListeners: d.lifecycle.events.listeners(), root: d.root,
    }));
  });

  r.on('GET', /^\/system\/df$/, async ({ res }) => {
    const containers = d.lifecycle.store.list();
    const images = await d.images.listImages();
    const imageSize = new Map(images.map((i) => [i.id, i.size]));
    sendJson(res, 200, {
      LayersSize: layersSize(d.images, images),
      Images: images.map((img) => imageSummary(img, containers.filter((c) => c.imageId === img.id).length)),
      Containers: containers.map((c) => ({ ...containerSummary(c, d.root, d.lifecycle.mountPoints(c)), ...containerSizes(d.root, c, imageSize.get(c.imageId)) })),
      Volumes: await volumesWithUsage(d.volumes, containers),
      BuildCache: [],
    });
  });
}
