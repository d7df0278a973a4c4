/**
 * What a request that no berth route serves gets: 501 naming the endpoint
 * when Docker's Engine API has it (berth lacks it), else Docker's own 404.
 * The table is the API definition's, so a route another part of berth
 * registers later simply wins over its 501.
 */
import { NotFoundError, NotImplementedError, type SupervisorError } from '../errors.js';
import { DOCKER_ENDPOINTS } from './docker-endpoints.js';

interface Endpoint {
  method: string;
  template: string;
  pattern: RegExp;
}

/** `{name}` of images, plugins and distribution spans slashes (`library/busybox`), as in moby's router. */
function patternFor(template: string): RegExp {
  const body = template.split(/(\{[^}]+\})/).map((part) => {
    if (part === '{name}') return '.+';
    if (part.startsWith('{')) return '[^/]+';
    return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  }).join('');
  return new RegExp(`^${body}$`);
}

const ENDPOINTS: readonly Endpoint[] = DOCKER_ENDPOINTS.map(([method, template]) => ({ method, template, pattern: patternFor(template) }));

/** The Docker endpoint METHOD PATH (unversioned) falls under, if any. */
export function dockerEndpoint(method: string, path: string): string | undefined {
  const m = method === 'HEAD' ? ['HEAD', 'GET'] : [method];
  // Literal paths first: /containers/create is not /containers/{id}.
  const hit = ENDPOINTS.find((e) => m.includes(e.method) && !e.template.includes('{') && e.pattern.test(path))
    ?? ENDPOINTS.find((e) => m.includes(e.method) && e.pattern.test(path));
  return hit ? `${hit.method} ${hit.template}` : undefined;
}

/** dockerd's answer to a path (or a method on it) it has no route for. */
export const PAGE_NOT_FOUND = 'page not found';

/** The error for a request no berth route serves; `path` is without the `/vX.Y` prefix. */
export function unservedRequestError(method: string, path: string): SupervisorError {
  const endpoint = dockerEndpoint(method, path);
  if (endpoint !== undefined) return new NotImplementedError(`berth does not implement ${endpoint}`);
  return new NotFoundError(PAGE_NOT_FOUND);
}
