import type { CreateNetworkRequest, EndpointRequest } from '@berth/networks';
import type { ApiDeps } from './deps.js';
import { Filters, type FilterEndpoint } from '../filters.js';
import { asObject, queryBool, readJsonBody, sendEmpty, sendJson } from './http-util.js';
import type { Router } from './router.js';
import { InvalidParameterError, NotImplementedError } from '../errors.js';

/** `filters=` checked by the one filter module (its keys, dockerd's errors), as the network store's plain map. */
function networkFilters(raw: string | null, endpoint: FilterEndpoint & ('GET /networks' | 'POST /networks/prune')): Record<string, string[]> {
  const f = Filters.parse(raw).accept(endpoint);
  return Object.fromEntries(f.keys().map((k) => [k, f.get(k)]));
}

/** Docker's `/networks` endpoints; shapes and errors as dockerd 20.10. */
export function networkRoutes(r: Router, d: ApiDeps): void {
  const service = (): NonNullable<ApiDeps['networks']> => {
    if (!d.networks) throw new NotImplementedError('networks are not available in this supervisor');
    return d.networks;
  };
  const publish = (action: string, id: string, attrs: Record<string, string>): unknown => d.lifecycle.events.publish('network', action, id, attrs);

  r.on('POST', /^\/networks\/create$/, async ({ req, res }) => {
    const body = asObject(await readJsonBody(req), 'the network config') as unknown as CreateNetworkRequest;
    if (typeof body.Name !== 'string') throw new InvalidParameterError('invalid name: Name must be a string');
    const created = service().create(body);
    publish('create', created.Id, { name: body.Name, type: body.Driver || 'bridge' });
    sendJson(res, 201, created);
  });

  r.on('GET', /^\/networks\/?$/, ({ res, query }) => {
    sendJson(res, 200, service().list(networkFilters(query.get('filters'), 'GET /networks')));
  });

  r.on('POST', /^\/networks\/prune$/, ({ res, query }) => {
    const deleted = service().prune(networkFilters(query.get('filters'), 'POST /networks/prune'));
    // dockerd: null when nothing went, as for containers and volumes.
    sendJson(res, 200, { NetworksDeleted: deleted.length > 0 ? deleted : null });
  });

  r.on('GET', /^\/networks\/([^/]+)$/, ({ res, params, query }) => {
    if (queryBool(query.get('verbose'))) throw new NotImplementedError('verbose network inspect needs swarm mode, which berth does not have');
    const scope = query.get('scope');
    if (scope !== null && scope !== '' && scope !== 'local') throw new NotImplementedError(`network scope "${scope}" is not supported by berth`);
    sendJson(res, 200, service().inspect(params[0]!));
  });

  r.on('DELETE', /^\/networks\/([^/]+)$/, ({ res, params }) => {
    const n = service().remove(params[0]!);
    publish('destroy', n.id, { name: n.name, type: n.driver });
    sendEmpty(res, 204);
  });

  r.on('POST', /^\/networks\/([^/]+)\/connect$/, async ({ req, res, params }) => {
    const body = asObject(await readJsonBody(req), 'the connect request');
    if (typeof body['Container'] !== 'string') throw new InvalidParameterError('Container is required');
    const endpoint = (body['EndpointConfig'] ?? {}) as EndpointRequest;
    const { network, container } = await service().connect(params[0]!, body['Container'], endpoint);
    publish('connect', network.id, { container: container.id, name: network.name, type: network.driver });
    sendEmpty(res, 200);
  });

  r.on('POST', /^\/networks\/([^/]+)\/disconnect$/, async ({ req, res, params }) => {
    const body = asObject(await readJsonBody(req), 'the disconnect request');
    if (typeof body['Container'] !== 'string') throw new InvalidParameterError('Container is required');
    const { network, containerId } = await service().disconnect(params[0]!, body['Container'], body['Force'] === true);
    publish('disconnect', network.id, { container: containerId, name: network.name, type: network.driver });
    sendEmpty(res, 200);
  });
}
