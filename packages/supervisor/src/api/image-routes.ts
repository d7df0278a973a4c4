import { ConflictError, errorMessage, InvalidParameterError, NotImplementedError } from '../errors.js';
import type { ImageView } from '../engine.js';
import { Filters } from '../filters.js';
import { selectImages } from '../image-filters.js';
import type { ApiDeps } from './deps.js';
import { commonHeaders, queryBool, sendEmpty, sendJson } from './http-util.js';
import type { Router } from './router.js';

export const PULL_UNSUPPORTED =
  'berth cannot pull images: no registry access; load the image with `berth image import` or `docker load`';

function unix(iso: string): number {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? Math.floor(t / 1000) : 0;
}

export function imageSummary(img: ImageView, containers: number): Record<string, unknown> {
  return {
    Id: img.id, ParentId: '', RepoTags: img.tags, RepoDigests: [], Created: unix(img.created), Size: img.size,
    SharedSize: -1, VirtualSize: img.size, Labels: img.config.Labels ?? {}, Containers: containers,
  };
}

export function imageInspect(img: ImageView): Record<string, unknown> {
  return {
    Id: img.id, RepoTags: img.tags, RepoDigests: [], Parent: '', Comment: '', Created: img.created,
    DockerVersion: '', Author: '', Config: { Env: [], Cmd: null, Entrypoint: null, WorkingDir: '', User: '', Labels: {}, ...img.config },
    Architecture: process.arch === 'x64' ? 'amd64' : process.arch, Os: 'linux', Size: img.size,
    GraphDriver: { Name: 'overlay2', Data: {} },
    RootFS: { Type: 'layers', Layers: img.layers.map((l) => (l.startsWith('sha256:') ? l : `sha256:${l}`)) },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}

export function imageRoutes(r: Router, d: ApiDeps): void {
  const usedBy = (img: ImageView): string[] =>
    d.lifecycle.store.list().filter((c) => c.imageId === img.id).map((c) => c.id);

  r.on('POST', /^\/images\/create$/, () => {
    throw new NotImplementedError(PULL_UNSUPPORTED);
  });

  // Streams: the body is not size-limited; the answer is JSON lines, errors in-stream.
  // `tag=REF` is a berth extension (`berth image import FILE REF`): tag the loaded image REF.
  r.on('POST', /^\/images\/load$/, async ({ req, res, query }) => {
    const tag = query.get('tag') || undefined;
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/json' });
    try {
      const { images } = await d.images.importImage(req, tag !== undefined ? { tag } : {});
      for (const img of images) {
        d.lifecycle.events.publish('image', 'load', img.id, { name: img.tags[0] ?? img.id });
        const names = img.tags.length > 0 ? img.tags.map((t) => `Loaded image: ${t}\n`) : [`Loaded image ID: ${img.id}\n`];
        for (const stream of names) res.write(JSON.stringify({ stream }) + '\n');
      }
    } catch (err) {
      const message = errorMessage(err);
      res.write(JSON.stringify({ errorDetail: { message }, error: message }) + '\n');
      // Drain the rest of the upload so the client sees the answer instead of a reset.
      req.resume();
    }
    res.end();
  });

  r.on('GET', /^\/images\/json$/, async ({ res, query }) => {
    const filters = Filters.parse(query.get('filters')).accept('GET /images/json');
    const selected = await selectImages(filters, { images: await d.images.listImages(), inspect: async (ref) => d.images.inspectImage(ref) });
    sendJson(res, 200, selected.map(({ image, tags }) => imageSummary({ ...image, tags }, usedBy(image).length)));
  });

  r.on('GET', /^\/images\/(.+)\/json$/, async ({ res, params }) => {
    sendJson(res, 200, imageInspect(await d.images.inspectImage(params[0]!)));
  });

  // `docker tag SRC NAME[:TAG]` sends repo=NAME and tag=TAG (empty: latest).
  r.on('POST', /^\/images\/(.+)\/tag$/, async ({ res, params, query }) => {
    const repo = query.get('repo') ?? '';
    if (repo === '') throw new InvalidParameterError('repository name must have at least one component');
    const name = `${repo}:${query.get('tag') || 'latest'}`;
    await d.images.tagImage(params[0]!, name);
    d.lifecycle.events.publish('image', 'tag', (await d.images.inspectImage(name)).id, { name });
    sendEmpty(res, 201);
  });

  r.on('DELETE', /^\/images\/(.+)$/, async ({ res, params, query }) => {
    const ref = params[0]!;
    const force = queryBool(query.get('force'));
    const img = await d.images.inspectImage(ref);
    const users = usedBy(img);
    if (users.length > 0 && !force) {
      throw new ConflictError(
        `conflict: unable to delete ${ref} (must be forced) - image is being used by container ${users[0]!.slice(0, 12)}`,
      );
    }
    const result = await d.images.removeImage(ref, { force });
    for (const t of result.untagged) d.lifecycle.events.publish('image', 'untag', img.id, { name: t });
    for (const id of result.deleted) d.lifecycle.events.publish('image', 'delete', id, { name: ref });
    sendJson(res, 200, [
      ...result.untagged.map((t) => ({ Untagged: t })),
      ...result.deleted.map((id) => ({ Deleted: id })),
    ]);
  });
}
