import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecSink, ExecSessions } from '../exec.js';
import { InvalidParameterError } from '../errors.js';
import { frame, streamType } from '../framing.js';
import type { ApiDeps } from './deps.js';
import { commonHeaders, MAX_BODY_BYTES, queryDimension, readJsonBody, sendEmpty, sendJson } from './http-util.js';
import type { Router } from './router.js';
import { feedStdin, streamContentType, writeUpgraded } from './streams.js';

const ID = '([^/]+)';

/** Output of a `Tty` exec is raw; otherwise multiplexed frames, as attach. */
function framed(tty: boolean, write: (buf: Buffer) => void): ExecSink['write'] {
  return (stream, chunk) => write(tty ? chunk : frame(streamType(stream), chunk));
}

/**
 * An upgraded request's body (`{"Detach":false,"Tty":false}`) arrives on the
 * socket ahead of the client's input: it is read off first, by its
 * Content-Length, so it never reaches the command's stdin.
 */
function readUpgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<{ body: unknown; rest: Buffer }> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isInteger(length) || length < 0 || length > MAX_BODY_BYTES) {
    return Promise.reject(new InvalidParameterError('invalid Content-Length for exec start'));
  }
  return new Promise((resolve, reject) => {
    let buf = head;
    const done = (): void => {
      socket.off('data', onData);
      socket.pause();
      let body: unknown = {};
      try {
        if (length > 0) body = JSON.parse(buf.subarray(0, length).toString('utf8'));
      } catch {
        reject(new InvalidParameterError('invalid JSON in request body'));
        return;
      }
      resolve({ body, rest: buf.subarray(length) });
    };
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= length) done();
    };
    if (buf.length >= length) {
      done();
      return;
    }
    socket.on('data', onData);
    socket.resume();
  });
}

export function execRoutes(r: Router, d: ApiDeps): void {
  const execs: ExecSessions = d.lifecycle.execs;

  r.on('POST', new RegExp(`^/containers/${ID}/exec$`), async ({ req, res, params }) => {
    const body = await readJsonBody(req);
    sendJson(res, 201, execs.create(params[0]!, body));
  });

  // dockerode's default and `Detach: true`: a plain response, the stream (if any) as its body.
  r.on('POST', new RegExp(`^/exec/${ID}/start$`), async ({ req, res, params }) => {
    const body = ((await readJsonBody(req)) ?? {}) as { Detach?: unknown };
    const id = params[0]!;
    const session = execs.get(id);
    if (body.Detach === true) {
      await execs.start(id, undefined);
      sendEmpty(res, 200);
      return;
    }
    const tty = session.config.Tty;
    const write = framed(tty, (buf) => { if (!res.writableEnded) res.write(buf); });
    const started = await execs.start(id, { write, end: () => { if (!res.writableEnded) res.end(); } });
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': streamContentType(tty) });
    res.flushHeaders();
    started.stdin?.end(); // a plain response carries no input
  });

  // The docker CLI: `Upgrade: tcp`, then the raw socket both ways.
  r.onUpgrade(new RegExp(`^/exec/${ID}/start$`), async ({ req, socket, head, params }) => {
    const id = params[0]!;
    const session = execs.get(id);
    const { rest } = await readUpgradeBody(req, socket, head);
    socket.on('error', () => socket.destroy());
    const tty = session.config.Tty;
    const write = framed(tty, (buf) => { if (!socket.writableEnded && !socket.destroyed) socket.write(buf); });
    const started = await execs.start(id, { write, end: () => { if (!socket.writableEnded) socket.end(); } });
    // Written before any output: the command's first bytes wait for the start's answer (pipes buffer them).
    writeUpgraded(socket, streamContentType(tty));
    feedStdin(socket, started.stdin, { endOnHalfClose: true, first: rest });
  });

  r.on('GET', new RegExp(`^/exec/${ID}/json$`), ({ res, params }) => {
    sendJson(res, 200, execs.inspect(params[0]!));
  });

  r.on('POST', new RegExp(`^/exec/${ID}/resize$`), ({ res, params, query }) => {
    execs.resize(params[0]!, queryDimension(query, 'h'), queryDimension(query, 'w'));
    sendEmpty(res, 200);
  });
}
