import { pipeline } from 'node:stream/promises';
import { NotImplementedError } from '../errors.js';
import { targetOf } from './archive-routes.js';
import type { ApiDeps } from './deps.js';
import { commonHeaders, sendJson } from './http-util.js';
import type { Router } from './router.js';

const ID = '([^/]+)';

/** `docker diff` and `docker export`: a container's filesystem as changes, and as one tar. */
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
    const stream = await d.engine.files.exportRootfs(targetOf(rec, ref, () => undefined));
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/x-tar' });
    try {
      await pipeline(stream, res);
    } catch (error) {
      // A client that leaves early is no fault of ours; anything else is worth a line in the log.
      if ((error as { code?: unknown }).code !== 'ERR_STREAM_PREMATURE_CLOSE') console.error(`berth: export of ${ref} was cut: ${(error as Error).message}`);
      res.destroy();
    }
  });
}
