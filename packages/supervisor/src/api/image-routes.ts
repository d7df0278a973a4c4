import { parsePlatform, parseRegistryRef, type Credentials } from '@berth/layers';
import { ConflictError, errorMessage, InvalidParameterError, NotImplementedError } from '../errors.js';
import type { ImageView } from '../engine.js';
import { Filters, pruneUntil } from '../filters.js';
import { selectImages } from '../image-filters.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { ApiDeps } from './deps.js';
import { commonHeaders, queryBool, readJsonBody, sendEmpty, sendJson } from './http-util.js';
import type { Router } from './router.js';
import { ProgressStream, pullMessage, pushMessages } from './progress-json.js';

/**
 * The docker CLI's `X-Registry-Auth`: base64url JSON of
 * `{username, password, serveraddress, identitytoken, registrytoken}`;
 * absent or `{}` (the CLI's `e30=`) for anonymous.
 */
export function registryAuth(header: string | string[] | undefined): Credentials | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw === undefined || raw.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(raw.trim(), 'base64').toString('utf8'));
  } catch {
    throw new InvalidParameterError('invalid X-Registry-Auth header: it is not base64-encoded JSON');
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as Record<string, unknown>;
  const creds: Credentials = {};
  for (const k of ['username', 'password', 'identitytoken', 'registrytoken'] as const) {
    const v = d[k];
    if (typeof v === 'string' && v !== '') creds[k] = v;
  }
  return Object.keys(creds).length === 0 ? undefined : creds;
}

/** `fromImage` and `tag` (a tag, or a digest `sha256:…` as the docker CLI sends a pull by digest). */
export function pullReference(fromImage: string, tag: string): string {
  if (tag !== '') return tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
  const ref = parseRegistryRef(fromImage);
  if (ref.tag === undefined && ref.digest === undefined) {
    throw new NotImplementedError(`berth does not implement pulling every tag of ${fromImage}; name a tag (${fromImage}:latest)`);
  }
  return fromImage;
}

function unix(iso: string): number {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? Math.floor(t / 1000) : 0;
}

export function imageSummary(img: ImageView, containers: number): Record<string, unknown> {
  return {
    Id: img.id, ParentId: '', RepoTags: img.tags, RepoDigests: img.repoDigests, Created: unix(img.created), Size: img.size,
    SharedSize: -1, VirtualSize: img.size, Labels: img.config.Labels ?? {}, Containers: containers,
  };
}

export function imageInspect(img: ImageView): Record<string, unknown> {
  const config = { Env: [], Cmd: null, Entrypoint: null, WorkingDir: '', User: '', Labels: {}, ...img.config };
  return {
    Id: img.id, RepoTags: img.tags, RepoDigests: img.repoDigests, Parent: '', Comment: '', Created: img.created,
    // dockerd 20.10 shows the config of the container an image was committed from; docker-compose 1.29 reads it
    // (KeyError without it) when it recreates a container. berth's images carry no such container: the image's own.
    Container: '', ContainerConfig: config,
    DockerVersion: '', Author: '', Config: config,
    Architecture: process.arch === 'x64' ? 'amd64' : process.arch, Os: 'linux', Size: img.size,
    GraphDriver: { Name: 'overlay2', Data: {} },
    RootFS: { Type: 'layers', Layers: img.diffIds },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}

export function imageRoutes(r: Router, d: ApiDeps): void {
  const usedBy = (img: ImageView): string[] =>
    d.lifecycle.store.list().filter((c) => c.imageId === img.id).map((c) => c.id);

  // `docker pull` (fromImage) and `docker import` (fromSrc). The answer is Docker's JSON
  // progress stream, begun only once the manifest is found (before that, plain errors).
  r.on('POST', /^\/images\/create$/, async ({ req, res, query }) => {
    const fromSrc = query.get('fromSrc') ?? '';
    const fromImage = query.get('fromImage') ?? '';
    if (fromSrc !== '') {
      await importRootfs(d, req, res, query, fromSrc);
      return;
    }
    if (fromImage === '') throw new InvalidParameterError('fromImage or fromSrc is required');
    const ref = pullReference(fromImage, query.get('tag') ?? '');
    if (!d.images.pull) throw new NotImplementedError('berth does not implement pulling images with this image service');
    const platform = query.get('platform') ?? '';
    const credentials = registryAuth(req.headers['x-registry-auth']);
    req.resume();
    const out = new ProgressStream(res);
    try {
      const img = await d.images.pull(ref, {
        ...(platform === '' ? {} : { platform: parsePlatform(platform) }),
        ...(credentials ? { credentials } : {}),
        onEvent: (e) => out.write(pullMessage(e)),
      });
      d.lifecycle.events.publish('image', 'pull', ref, { name: ref });
      void img;
      out.finish();
    } catch (error) {
      out.finish(error);
    }
  });

  // `docker login` through berth: the credentials are checked against the registry, never stored here.
  r.on('POST', /^\/auth$/, async ({ req, res }) => {
    const body = (await readJsonBody(req)) as Record<string, unknown> | undefined;
    const username = typeof body?.['username'] === 'string' ? body['username'] : '';
    const password = typeof body?.['password'] === 'string' ? body['password'] : '';
    const server = typeof body?.['serveraddress'] === 'string' ? body['serveraddress'] : '';
    if (!d.images.login) throw new NotImplementedError('berth does not implement docker login with this image service');
    await d.images.login(server, { username, password });
    sendJson(res, 200, { Status: 'Login Succeeded', IdentityToken: '' });
  });

  // Streams: the body is not size-limited; the answer is JSON lines, errors in-stream.
  // `tag=REF` is a berth extension (`berth image import FILE REF`): tag the loaded image REF.
  // `format=auto` is berth's too (`berth image import` of a root filesystem tar); `docker load` reads only image archives.
  r.on('POST', /^\/images\/load$/, async ({ req, res, query }) => {
    const tag = query.get('tag') || undefined;
    const format = query.get('format') === 'auto' ? 'auto' : 'archive';
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/json' });
    try {
      const { images } = await d.images.importImage(req, { format, ...(tag !== undefined ? { tag } : {}) });
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

  // `docker push NAME[:TAG]`: the CLI sends the name in the path and the tag as `tag`.
  r.on('POST', /^\/images\/(.+)\/push$/, async ({ req, res, params, query }) => {
    if (!d.images.push) throw new NotImplementedError('berth does not implement push with this image service');
    const name = params[0]!;
    const tag = query.get('tag') ?? '';
    const ref = tag === '' ? name : `${name}:${tag}`;
    await d.images.inspectImage(ref);
    const credentials = registryAuth(req.headers['x-registry-auth']);
    req.resume();
    const out = new ProgressStream(res);
    try {
      await d.images.push(ref, { ...(credentials ? { credentials } : {}), onEvent: (e) => { for (const m of pushMessages(e)) out.write(m); } });
      d.lifecycle.events.publish('image', 'push', ref, { name: ref });
      out.finish();
    } catch (error) {
      out.finish(error);
    }
  });

  // `docker save`: one image by path, several as `names=`.
  const save = async (res: ServerResponse, refs: string[]): Promise<void> => {
    if (!d.images.save) throw new NotImplementedError('berth does not implement docker save with this image service');
    if (refs.length === 0) throw new InvalidParameterError('no images named: use names=NAME');
    for (const ref of refs) await d.images.inspectImage(ref);
    const stream = await d.images.save(refs);
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/x-tar' });
    await pipeline(stream, res).catch(() => res.destroy());
  };
  r.on('GET', /^\/images\/get$/, ({ res, query }) => save(res, query.getAll('names')));
  r.on('GET', /^\/images\/(.+)\/get$/, ({ res, params }) => save(res, [params[0]!]));

  r.on('GET', /^\/images\/(.+)\/history$/, ({ res, params }) => {
    if (!d.images.history) throw new NotImplementedError('berth does not implement image history with this image service');
    sendJson(res, 200, d.images.history(params[0]!));
  });

  // Dangling (untagged) images by default; dangling=false: every image no container uses. label / label! / until as for containers.
  r.on('POST', /^\/images\/prune$/, ({ res, query }) => {
    if (!d.images.pruneImages) throw new NotImplementedError('berth does not implement image prune with this image service');
    const filters = Filters.parse(query.get('filters')).accept('POST /images/prune');
    const danglingOnly = filters.bool('dangling', true);
    const until = pruneUntil(filters, Date.now() / 1000);
    const labels = (img: ImageView): Record<string, string> => img.config.Labels ?? {};
    // Containers hold their image from create on (the layer store sees them only from start).
    const used = new Set(d.lifecycle.store.list().map((c) => c.imageId));
    const result = d.images.pruneImages((img) =>
      !used.has(img.id) && (!danglingOnly || img.tags.length === 0) &&
      (!filters.contains('label') || filters.matchKVList('label', labels(img))) &&
      !(filters.contains('label!') && filters.get('label!').some((l) => Filters.of({ label: [l] }).matchKVList('label', labels(img)))) &&
      (until === undefined || Date.parse(img.created) / 1000 <= until));
    for (const item of result.deleted) {
      if (item.Untagged !== undefined) d.lifecycle.events.publish('image', 'untag', item.Untagged, { name: item.Untagged });
      if (item.Deleted !== undefined) d.lifecycle.events.publish('image', 'delete', item.Deleted, { name: item.Deleted });
    }
    sendJson(res, 200, { ImagesDeleted: result.deleted.length > 0 ? result.deleted : null, SpaceReclaimed: result.reclaimed });
  });

  r.on('GET', /^\/distribution\/(.+)\/json$/, async ({ req, res, params }) => {
    if (!d.images.distribution) throw new NotImplementedError('berth does not implement distribution inspect with this image service');
    sendJson(res, 200, await d.images.distribution(params[0]!, registryAuth(req.headers['x-registry-auth'])));
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

/**
 * `docker import` (`fromSrc=-`: the body is a root filesystem tar, plain or
 * gzip): one layer, tagged `repo:tag` when given. Docker answers
 * `{"status":"sha256:…"}`. `changes` and `message` are refused: berth does
 * not apply Dockerfile instructions or keep a comment.
 */
async function importRootfs(d: ApiDeps, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, fromSrc: string): Promise<void> {
  if (fromSrc !== '-') throw new NotImplementedError(`berth does not implement importing from a URL (${fromSrc}); send the tar as the body (fromSrc=-)`);
  if (query.getAll('changes').some((c) => c !== '')) throw new NotImplementedError('berth does not implement docker import --change');
  if ((query.get('message') ?? '') !== '') throw new NotImplementedError('berth does not implement docker import --message');
  if ((query.get('platform') ?? '') !== '') throw new NotImplementedError('berth does not implement docker import --platform');
  const repo = query.get('repo') ?? '';
  // The docker CLI sends `repo=NAME:TAG` and no tag; other clients send them apart.
  const repoHasTag = repo.lastIndexOf(':') > repo.lastIndexOf('/');
  const tagParam = query.get('tag') ?? '';
  const tag = repo === '' ? undefined : repoHasTag && tagParam === '' ? repo : `${repo}:${tagParam || 'latest'}`;
  const out = new ProgressStream(res);
  try {
    const { images } = await d.images.importImage(req, { format: 'rootfs', ...(tag !== undefined ? { tag } : {}) });
    for (const img of images) {
      d.lifecycle.events.publish('image', 'import', img.id, { name: img.id });
      out.write({ status: img.id });
    }
    out.finish();
  } catch (error) {
    req.resume();
    out.finish(error);
  }
}
