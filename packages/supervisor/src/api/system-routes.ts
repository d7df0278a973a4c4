import { cpus, hostname, release, totalmem } from 'node:os';
import { existsSync } from 'node:fs';
import { containerSizes, layersSize, volumesWithUsage } from '../disk-usage.js';
import { containerSummary } from '../docker-shapes.js';
import { eventMatcher, apiTime, type DockerEvent } from '../events.js';
import type { ApiDeps } from './deps.js';
import { Filters } from '../filters.js';
import { API_VERSION, BERTH_VERSION, commonHeaders, MIN_API_VERSION, sendJson } from './http-util.js';
import { imageSummary } from './image-routes.js';
import type { Router } from './router.js';

const ARCH = process.arch === 'x64' ? 'amd64' : process.arch;

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
    sendJson(res, 200, {
      Platform: { Name: 'berth' },
      Components: [{ Name: 'Engine', Version: BERTH_VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: ARCH } }],
      Version: BERTH_VERSION, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: '', GoVersion: 'n/a',
      Os: 'linux', Arch: ARCH, KernelVersion: release(), BuildTime: '',
    });
  });

  r.on('GET', /^\/info$/, async ({ res }) => {
    const containers = d.lifecycle.store.list();
    const running = containers.filter((c) => c.state === 'running').length;
    const images = await d.images.listImages();
    sendJson(res, 200, {
      ID: '', Containers: containers.length, ContainersRunning: running, ContainersPaused: 0,
      ContainersStopped: containers.length - running, Images: images.length, Driver: 'overlay2',
      DriverStatus: [], Plugins: { Volume: ['local'], Network: ['none', 'host'], Log: ['json-file'] },
      MemoryLimit: true, SwapLimit: false, CpuCfsPeriod: true, CpuCfsQuota: true, PidsLimit: true,
      OomKillDisable: false, LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs', CgroupVersion: existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1',
      KernelVersion: release(), OperatingSystem: 'linux', OSType: 'linux', Architecture: ARCH, NCPU: cpus().length,
      MemTotal: totalmem(), DockerRootDir: d.root, Name: hostname(), Labels: [], ServerVersion: BERTH_VERSION,
      SecurityOptions: ['name=seccomp,profile=unconfined'], Warnings: null,
    });
  });

  r.on('GET', /^\/system\/df$/, async ({ res }) => {
    const containers = d.lifecycle.store.list();
    const images = await d.images.listImages();
    const imageSize = new Map(images.map((i) => [i.id, i.size]));
    sendJson(res, 200, {
      LayersSize: layersSize(d.images, images),
      Images: images.map((img) => imageSummary(img, containers.filter((c) => c.imageId === img.id).length)),
      Containers: containers.map((c) => ({ ...containerSummary(c), ...containerSizes(d.root, c, imageSize.get(c.imageId)) })),
      Volumes: await volumesWithUsage(d.volumes, containers),
      BuildCache: [],
    });
  });
}
