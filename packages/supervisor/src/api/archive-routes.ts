import { pipeline } from 'node:stream/promises';
import { encodePathStat } from '@berth/runtime';
import type { ContainerRecord } from '../container-store.js';
import type { ArchiveTarget, ContainerFilesView, MountPoint } from '../engine.js';
import { InvalidParameterError, NotImplementedError } from '../errors.js';
import type { ApiDeps } from './deps.js';
import { commonHeaders, queryBool, sendEmpty } from './http-util.js';
import type { Router } from './router.js';

const ARCHIVE = /^\/containers\/([^/]+)\/archive$/;
const STAT_HEADER = 'X-Docker-Container-Path-Stat';

/**
 * `docker cp`: `HEAD` (stat), `GET` (a tar of a path) and `PUT` (extract a
 * tar into a directory) on `/containers/{id}/archive`, for running and
 * stopped containers alike (the runtime looks through the running init's
 * root, or mounts a throwaway view of a stopped container's files).
 */
export function archiveRoutes(r: Router, d: ApiDeps): void {
  const lc = d.lifecycle;
  const files = (): ContainerFilesView => {
    if (!d.engine?.files) throw new NotImplementedError('this engine cannot reach into containers\' files (archive)');
    return d.engine.files;
  };
  const target = (ref: string): ArchiveTarget => {
    const rec = lc.store.resolve(ref);
    return targetOf(rec, ref, lc.liveProcess.bind(lc), lc.mountPoints(rec));
  };
  const path = (query: URLSearchParams): string => query.get('path') ?? '';

  r.on('GET', ARCHIVE, async ({ req, res, params, query }) => {
    const t = target(params[0]!);
    if (req.method === 'HEAD') {
      const stat = await files().stat(t, path(query));
      res.writeHead(200, { ...commonHeaders(), [STAT_HEADER]: encodePathStat(stat) });
      res.end();
      return;
    }
    const { stat, stream } = await files().archive(t, path(query));
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/x-tar', [STAT_HEADER]: encodePathStat(stat) });
    try {
      await pipeline(stream, res);
    } catch (error) {
      // A client that leaves early is no fault of ours; anything else is worth a line in the log.
      if ((error as { code?: unknown }).code !== 'ERR_STREAM_PREMATURE_CLOSE') console.error(`berth: docker cp of ${path(query)} from ${params[0]!} was cut: ${(error as Error).message}`);
      res.destroy(); // a cut archive, never one that looks complete
    }
  });

  r.on('PUT', ARCHIVE, async ({ req, res, params, query }) => {
    const t = target(params[0]!);
    for (const flag of ['noOverwriteDirNonDir', 'copyUIDGID'] as const) {
      const v = query.get(flag);
      if (v !== null && !['', '0', '1', 'true', 'false'].includes(v)) {
        throw new InvalidParameterError(`invalid value for ${flag}: ${JSON.stringify(v)}; use 1 or 0`);
      }
    }
    await files().extract(t, path(query), req, {
      noOverwriteDirNonDir: queryBool(query.get('noOverwriteDirNonDir')),
      copyUIDGID: queryBool(query.get('copyUIDGID')),
    });
    sendEmpty(res, 200);
  });
}

export function targetOf(
  rec: ContainerRecord, ref: string, live: (id: string) => { pid: number; startTime: number } | undefined, mounts: readonly MountPoint[],
): ArchiveTarget {
  const running = live(rec.id);
  return {
    id: rec.id, imageId: rec.imageId || rec.image, ref, mounts,
    readonlyRootfs: rec.hostConfig.ReadonlyRootfs === true,
    ...(running ? { running } : {}),
  };
}
