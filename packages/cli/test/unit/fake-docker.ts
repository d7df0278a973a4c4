/**
 * A tiny Docker Engine API server on a unix socket, recording every request,
 * for driving the real `berth` binary in tests.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { encodeFrame } from '../../src/stream.js';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** 1 for the first connection the server accepted, 2 for the second, ... */
  connection: number;
}

export interface FakeDocker {
  requests: Recorded[];
  /** Connections accepted so far (each request records the connection it came on as `connection`). */
  connections(): number;
  /** Requests without the pings, as "METHOD url" lines. */
  calls(): string[];
  close(): Promise<void>;
}

export interface FakeOptions {
  exitCode?: number;
  containers?: unknown[];
  volumes?: unknown[];
}

export async function startFakeDocker(socketPath: string, options: FakeOptions = {}): Promise<FakeDocker> {
  const requests: Recorded[] = [];
  const connectionNumbers = new WeakMap<Socket, number>();
  let connections = 0;
  let attached: Socket | undefined;
  let waiter: http.ServerResponse | undefined;
  const json = (res: http.ServerResponse, status: number, value: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.47' });
    res.end(JSON.stringify(value));
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, connection: connectionNumbers.get(req.socket) ?? 0 });
      const url = new URL(req.url ?? '/', 'http://x');
      const route = `${req.method} ${url.pathname}`;
      if (route === 'GET /_ping') {
        res.writeHead(200, { 'Api-Version': '1.47' });
        res.end('OK');
      } else if (route === 'POST /volumes/create') {
        const name = (JSON.parse(body) as { Name?: string }).Name ?? 'f'.repeat(64);
        json(res, 201, { Name: name, Driver: 'local', Mountpoint: `/var/lib/berth/volumes/${name}/_data`, Labels: {}, Scope: 'local', Options: {} });
      } else if (route === 'GET /volumes') {
        json(res, 200, { Volumes: options.volumes ?? [], Warnings: null });
      } else if (route === 'DELETE /volumes/v1') {
        res.writeHead(204).end();
      } else if (route === 'DELETE /volumes/missing') {
        json(res, 404, { message: 'get missing: no such volume' });
      } else if (route === 'POST /volumes/prune') {
        json(res, 200, { VolumesDeleted: ['anon1', 'anon2'], SpaceReclaimed: 12345 });
      } else if (route === 'POST /containers/create') {
        json(res, 201, { Id: 'c0ffee'.repeat(10) + 'abcd', Warnings: [] });
      } else if (/^POST \/containers\/[^/]+\/wait$/.test(route)) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        waiter = res;
      } else if (/^POST \/containers\/[^/]+\/start$/.test(route)) {
        res.writeHead(204).end();
        // Output, then the end of the stream, then the exit status: docker's order.
        attached?.write(encodeFrame(1, 'hi\n'));
        attached?.write(encodeFrame(2, 'to stderr\n'));
        attached?.end(() => waiter?.end(JSON.stringify({ StatusCode: options.exitCode ?? 0, Error: null })));
      } else if (route === 'POST /images/load') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(`${JSON.stringify({ stream: `Loaded image: ${url.searchParams.get('tag') ?? 'busybox:latest'} (${body.length} bytes)\n` })}\n`);
      } else if (route === 'GET /berth/volumes/v1/export') {
        res.writeHead(200, { 'Content-Type': 'application/x-tar' });
        res.end('TARBYTES');
      } else if (route === 'POST /berth/volumes/v1/clone') {
        json(res, 201, { Name: url.searchParams.get('to'), Driver: 'local' });
      } else if (route === 'GET /containers/json') {
        json(res, 200, options.containers ?? []);
      } else {
        json(res, 404, { message: `page not found: ${route}` });
      }
    });
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '', connection: connectionNumbers.get(socket) ?? 0 });
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    attached = socket;
  });
  server.on('connection', (socket: Socket) => connectionNumbers.set(socket, ++connections));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    requests,
    connections: () => connections,
    calls: () => requests.filter((r) => r.url !== '/_ping').map((r) => `${r.method} ${r.url}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
