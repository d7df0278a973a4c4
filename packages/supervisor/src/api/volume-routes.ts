import { errorKind } from '@berth/syscall';
import type { VolumeListFilters, VolumePruneFilters, VolumeView } from '../engine.js';
import { InvalidParameterError } from '../errors.js';
import type { ApiDeps } from './deps.js';
import { Filters, type FilterKey } from '../filters.js';
import { asObject, optionalString, optionalStringMap, queryBool, readJsonBody, sendEmpty, sendJson } from './http-util.js';
import { apiVersionBefore, type Router } from './router.js';

/**
 * `GET /volumes` filters: the store answers `dangling` (it holds the
 * references); name (moby's Match), driver (exact) and label (every one)
 * are matched here, with the same semantics as every other list.
 */
export function volumeListRequest(f: Filters<FilterKey<'GET /volumes'>>): { store: VolumeListFilters; keep: (v: VolumeView) => boolean } {
  return {
    // dockerd 20.10 reads dangling as true/1 or false/0.
    store: f.contains('dangling') ? { dangling: f.bool('dangling', false) } : {},
    keep: (v) => f.match('name', v.Name) && f.exactMatch('driver', v.Driver) && f.matchKVList('label', v.Labels),
  };
}

/** `POST /volumes/prune`: `all` (API 1.42+: named volumes too), `label` and `label!`. */
export function volumePruneRequest(f: Filters<FilterKey<'POST /volumes/prune'>>): { all: boolean; filters: VolumePruneFilters } {
  return {
    all: f.bool('all', false),
    filters: {
      ...(f.contains('label') ? { label: f.get('label') } : {}),
      ...(f.contains('label!') ? { 'label!': f.get('label!') } : {}),
    },
  };
}

export function volumeRoutes(r: Router, d: ApiDeps): void {
  r.on('POST', /^\/volumes\/create$/, async ({ req, res }) => {
    const body = asObject(await readJsonBody(req), 'the volume config');
    const name = optionalString(body, 'Name');
    const driver = optionalString(body, 'Driver');
    const labels = optionalStringMap(body, 'Labels');
    const options = optionalStringMap(body, 'DriverOpts');
    const vol = await d.volumes.create({
      ...(name ? { name } : {}), ...(driver ? { driver } : {}), ...(labels ? { labels } : {}), ...(options ? { options } : {}),
    });
    d.lifecycle.events.publish('volume', 'create', vol.Name, { driver: vol.Driver });
    sendJson(res, 201, vol);
  });

  r.on('GET', /^\/volumes$/, async ({ res, query }) => {
    const { store, keep } = volumeListRequest(Filters.parse(query.get('filters')).accept('GET /volumes'));
    const volumes = (await d.volumes.list(store)).filter(keep);
    sendJson(res, 200, { Volumes: volumes, Warnings: null });
  });

  // Before API 1.42 prune removed every unused volume, named ones too, and knew no `all` filter;
  // from 1.42 it removes anonymous ones only, unless `all=true`.
  r.on('POST', /^\/volumes\/prune$/, async ({ res, query, apiVersion }) => {
    const filters = Filters.parse(query.get('filters')).accept('POST /volumes/prune');
    const legacy = apiVersionBefore(apiVersion, '1.42');
    if (legacy && filters.contains('all')) throw new InvalidParameterError("Invalid filter 'all'");
    const request = volumePruneRequest(filters);
    const report = await d.volumes.prune(legacy ? { ...request, all: true } : request);
    for (const name of report.VolumesDeleted ?? []) d.lifecycle.events.publish('volume', 'destroy', name, { driver: 'local' });
    sendJson(res, 200, { VolumesDeleted: report.VolumesDeleted ?? [], SpaceReclaimed: report.SpaceReclaimed ?? 0 });
  });

  r.on('GET', /^\/volumes\/([^/]+)$/, async ({ res, params }) => {
    sendJson(res, 200, await d.volumes.inspect(params[0]!));
  });

  r.on('DELETE', /^\/volumes\/([^/]+)$/, async ({ res, params, query }) => {
    const force = queryBool(query.get('force'));
    try {
      await d.volumes.remove(params[0]!, { force });
      d.lifecycle.events.publish('volume', 'destroy', params[0]!, { driver: 'local' });
    } catch (err) {
      // Docker: force on a missing volume is not an error (in-use still is).
      if (!(force && errorKind(err) === 'not-found')) throw err;
    }
    sendEmpty(res, 204);
  });
}
