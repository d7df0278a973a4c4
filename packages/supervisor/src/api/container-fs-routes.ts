import { pipeline } from 'node:stream/promises';
import { applyChanges, mergeCommitConfig } from '../commit.js';
import { InvalidParameterError, NotImplementedError } from '../errors.js';
import { targetOf } from './archive-routes.js';
import type { ApiDeps } from './deps.js';
import { asObject, commonHeaders, queryBool, readJsonBody, sendJson } from './http-util.js';
import { whilePaused } from '../pause.js';
import type { Router } from './router.js';

const ID = '([^/]+)';

/** `docker diff`, `docker export` and `docker commit`: a container's filesystem as changes, as one tar, as an image. */
export function containerFsRoutes(r: Router, d: ApiDeps): void {
  const lc = d.lifecycle;

  r.on('GET', new RegExp(`^/containers/${ID}/changes$`), ({ res, params }) => {
    const rec = lc.store.resolve(params[0]!);
    if (!d.images.changes) throw new NotImplementedError('this image service cannot list container changes');
    let changes: { Path: string; Kind: number }[];
    try {
      changes = d.images.changes(rec.id);
    } catch (error) {
      // Created and never started: no writable layer yet, so nothing changed (Docker answers null).
      if ((error as { code?: unknown }).code !== 'NO_SUCH_CONTAINER') throw error;
      changes = [];
    }
    sendJson(res, 200, changes.length > 0 ? changes : null);
  });

  r.on('GET', new RegExp(`^/containers/${ID}/export$`), async ({ res, params }) => {
    const ref = params[0]!;
    const rec = lc.store.resolve(ref);
    if (!d.engine?.files) throw new NotImplementedError('this engine cannot reach into containers\' files (export)');
    const stream = await d.engine.files.exportRootfs(targetOf(rec, ref, () => undefined, []));
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/x-tar' });
    try {
      await pipeline(stream, res);
    } catch (error) {
      // A client that leaves early is no fault of ours; anything else is worth a line in the log.
      if ((error as { code?: unknown }).code !== 'ERR_STREAM_PREMATURE_CLOSE') console.error(`berth: export of ${ref} was cut: ${(error as Error).message}`);
      res.destroy();
    }
  });

  // `pause` (default true, as Docker): a running container is frozen while its layer is read,
  // so no file is caught half-written.
  r.on('POST', /^\/commit$/, async ({ req, res, query }) => {
    const ref = query.get('container') ?? '';
    if (ref === '') throw new InvalidParameterError('invalid name or ID supplied: ""');
    const body = asObject(await readJsonBody(req), 'the config');
    const rec = lc.store.resolve(ref);
    if (!d.images.commitContainer) throw new NotImplementedError('this image service cannot commit containers');
    const repo = query.get('repo') ?? '';
    const tag = query.get('tag') ?? '';
    if (repo === '' && tag !== '') throw new InvalidParameterError('invalid reference format: a tag needs a repository (repo=NAME)');
    const config = applyChanges(mergeCommitConfig(rec.config, body), query.getAll('changes').flatMap((c) => c.split('\n')));
    const command = [...(rec.config.Entrypoint ?? []), ...(rec.config.Cmd ?? [])].join(' ');
    const images = d.images;
    const commit = () => images.commitContainer!(rec.id, {
      config, image: rec.imageId || rec.image,
      ...(repo !== '' ? { tag: tag !== '' ? `${repo}:${tag}` : repo } : {}),
      ...(query.get('author') ? { author: query.get('author')! } : {}),
      ...(query.get('comment') ? { comment: query.get('comment')! } : {}),
      ...(command !== '' ? { createdBy: command } : {}),
    });
    const image = queryBool(query.get('pause'), true) ? await whilePaused(lc, d.engine, rec.id, commit) : await commit();
    sendJson(res, 201, { Id: image.id });
  });
}
