import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, STATUS_CODES, type Server } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { errorMessage, httpStatusFor, NotImplementedError, SupervisorError } from '../errors.js';
import { archiveRoutes } from './archive-routes.js';
import { containerFsRoutes } from './container-fs-routes.js';
import { containerOpsRoutes } from './container-ops-routes.js';
import { containerRoutes } from './container-routes.js';
import { execRoutes } from './exec-routes.js';
import type { ApiDeps } from './deps.js';
import { unservedRequestError } from './endpoints.js';
import { checkApiVersion, commonHeaders, sendError } from './http-util.js';
import { imageRoutes } from './image-routes.js';
import { networkRoutes } from './network-routes.js';
import { Router } from './router.js';
import { systemRoutes } from './system-routes.js';
import { volumeRoutes } from './volume-routes.js';
import { volumeArchiveRoutes } from './volume-archive-routes.js';

export function buildRouter(deps: ApiDeps): Router {
  const r = new Router();
  systemRoutes(r, deps);
  volumeRoutes(r, deps);
  volumeArchiveRoutes(r, deps);
  containerRoutes(r, deps);
  archiveRoutes(r, deps);
  containerFsRoutes(r, deps);
  containerOpsRoutes(r, deps);
  execRoutes(r, deps);
  imageRoutes(r, deps);
  networkRoutes(r, deps);
  return r;
}

/** The Docker Engine API subset, as a node:http server (not yet listening). */
export function createApiServer(deps: ApiDeps): Server {
  const router = buildRouter(deps);
  const server = createServer((req, res) => {
    let result: Promise<void> | void;
    try {
      checkApiVersion(req.url ?? '/');
      const m = router.match(req.method ?? 'GET', req.url ?? '/');
      if ('unserved' in m) throw unservedRequestError(req.method ?? 'GET', m.unserved);
      result = m.handler({ req, res, params: m.params, query: m.query, apiVersion: m.apiVersion });
    } catch (err) {
      req.resume();
      sendError(res, err);
      return;
    }
    if (result) {
      result.catch((err: unknown) => {
        req.resume();
        sendError(res, err);
      });
    }
  });

  server.on('upgrade', (req, socket, head) => {
    const fail = (err: unknown): void => {
      const status = httpStatusFor(err);
      const body = JSON.stringify({ message: errorMessage(err) });
      const headers = { ...commonHeaders(), 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), 'Connection': 'close' };
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n' + body);
    };
    try {
      checkApiVersion(req.url ?? '/');
      const m = router.matchUpgrade(req.url ?? '/');
      if ('unserved' in m) {
        const method = req.method ?? 'GET';
        throw 'unserved' in router.match(method, req.url ?? '/')
          ? unservedRequestError(method, m.unserved)
          : new NotImplementedError(`berth does not implement "Upgrade: tcp" on ${method} ${m.unserved}: only attach and exec start upgrade`);
      }
      const r = m.handler({ req, socket, head, params: m.params, query: m.query, apiVersion: m.apiVersion });
      if (r) r.catch(fail);
    } catch (err) {
      fail(err);
    }
  });
  // Never let a client's error take the daemon down.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n{"message":"malformed HTTP request"}');
  });
  return server;
}

function somethingAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/**
 * Listen on a unix socket, mode 0660. A socket file left by a dead daemon is
 * removed; one that still answers belongs to a live daemon and is an error.
 */
export async function listenUnix(server: Server, socketPath: string): Promise<void> {
  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
  if (existsSync(socketPath)) {
    if (!lstatSync(socketPath).isSocket()) {
      throw new SupervisorError('AddressInUse', `failed to listen on ${socketPath}: a file that is not a socket is in the way; move it away`);
    }
    if (await somethingAnswers(socketPath)) {
      throw new SupervisorError('AddressInUse', `failed to listen on ${socketPath}: another daemon answers on it; stop it or use another --host`);
    }
    unlinkSync(socketPath);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o660);
}
