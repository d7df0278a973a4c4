import { pipeline } from 'node:stream/promises';
import { InvalidParameterError, NotImplementedError } from '../errors.js';
import type { VolumeService } from '../engine.js';
import type { ApiDeps } from './deps.js';
import { commonHeaders, sendJson } from './http-util.js';
import type { Router } from './router.js';

/**
 * berth's own volume endpoints, beyond Docker's API (Docker has no way to
 * back up or move a volume): export as a tar stream, import a tar stream
 * into a new or empty volume, clone. Used by `berth volume export|import|clone`.
 */
export function volumeArchiveRoutes(r: Router, d: ApiDeps): void {
  r.on('GET', /^\/berth\/volumes\/([^/]+)\/export$/, async ({ res, params }) => {
    const archive = need(d.volumes, 'exportTar')(params[0]!);
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/x-tar' });
    try {
      await pipeline(archive, res);
    } catch {
      res.destroy(); // the client sees a truncated archive, never a complete-looking one
    }
  });

  // Streams: exempt from the JSON body size limit, like /images/load.
  r.on('POST', /^\/berth\/volumes\/([^/]+)\/import$/, async ({ req, res, params }) => {
    const report = await need(d.volumes, 'importTar')(params[0]!, req);
    sendJson(res, 200, report);
  });

  r.on('POST', /^\/berth\/volumes\/([^/]+)\/clone$/, async ({ res, params, query }) => {
    const to = query.get('to');
    if (!to) throw new InvalidParameterError('clone needs ?to=NAME: the name of the new volume');
    sendJson(res, 201, await need(d.volumes, 'clone')(params[0]!, to));
  });
}

function need<K extends 'exportTar' | 'importTar' | 'clone'>(volumes: VolumeService, method: K): NonNullable<VolumeService[K]> {
  const fn = volumes[method];
  if (!fn) throw new NotImplementedError(`this volume service cannot ${method}`);
  return fn.bind(volumes) as NonNullable<VolumeService[K]>;
}
