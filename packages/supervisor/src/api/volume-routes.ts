import { errorKind } from '@berth/syscall';
import type { VolumeListFilters, VolumePruneFilters } from '../engine.js';
import { InvalidParameterError } from '../errors.js';
import type { ApiDeps } from './deps.js';
import { asObject, optionalString, optionalStringMap, parseFilters, queryBool, readJsonBody, sendEmpty, sendJson } from './http-util.js';
import type { Router } from './router.js';

/** Docker's volume list filters, from the generic `filters` parameter. */
export function volumeListFilters(f: Record<string, string[]>): VolumeListFilters {
  const out: VolumeListFilters = {};
  for (const [key, values] of Object.entries(f)) {
    if (values.length === 0) continue;
    switch (key) {
      case 'dangling': {
        const v = values[values.length - 1]!.toLowerCase();
        if (!['true', '1', 'false', '0'].includes(v)) {
          throw new InvalidParameterError(`invalid filter 'dangling=${v}': use true or false`);
        }
        out.dangling = v === 'true' || v === '1';
        break;
      }
      case 'name': out.name = values; break;
      case 'label': out.label = values; break;
      case 'driver': out.driver = values; break;
      default: throw new InvalidParameterError(`invalid filter '${key}'`);
    }
  }
  return out;
}

export function volumePruneFilters(f: Record<string, string[]>): VolumePruneFilters {
  const out: VolumePruneFilters = {};
  for (const [key, values] of Object.entries(f)) {
    if (key === 'label') out.label = values;
    else if (key === 'label!') out['label!'] = values;
    else throw new InvalidParameterError(`invalid filter '${key}'`);
  }
  return out;
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
    const filters = parseFilters(query.get('filters'));
    const volumes = await d.volumes.list(volumeListFilters(filters));
    sendJson(res, 200, { Volumes: volumes, Warnings: null });
  });

  r.on('POST', /^\/volumes\/prune$/, async ({ res, query }) => {
    const filters = parseFilters(query.get('filters'));
    const allValues = filters['all'] ?? [];
    delete filters['all'];
    if (allValues.length > 1) throw new InvalidParameterError('invalid filter "all": give one value');
    const all = allValues.length === 1 && queryBool(allValues[0]);
    const report = await d.volumes.prune({ all, filters: volumePruneFilters(filters) });
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
