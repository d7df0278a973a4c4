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

/**
 * The start body's `Tty` decides the framing, not the exec's (Docker reads
 * it off the start request): raw for a terminal start, whose stream has no
 * room for stderr (Docker drops it), multiplexed frames otherwise. The
 * exec's own `Tty` decides only whether the command gets a terminal.
 */
function framed(startTty: boolean, write: (buf: Buffer) => void): ExecSink['write'] {
  return (stream, chunk) => {
    if (!startTty) write(frame(streamType(stream), chunk));
    else if (stream === 'stdout') write(chunk);
  };
}

/** `POST /exec/{id}/start`'s body (ExecStartCheck). */
function startCheck(body: unknown): { detach: boolean; tty: boolean } {
  const b = (body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  return { detach: b['Detach'] === true, tty: b['Tty'] === true };
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
  r.on('POST', new RegExp(`^/exec/${ID}/start$`), async ({ req, res, params, apiVersion }) => {
    const check = startCheck(await readJsonBody(req));
    const id = params[0]!;
    execs.get(id);
    if (check.detach) {
      await execs.start(id, undefined);
      sendEmpty(res, 200);
      return;
    }
    const write = framed(check.tty, (buf) => { if (!res.writableEnded) res.write(buf); });
    const started = await execs.start(id, { write, end: () => { if (!res.writableEnded) res.end(); } });
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': streamContentType(check.tty, apiVersion) });
    res.flushHeaders();
    started.stdin?.end(); // a plain response carries no input
  });

  // The docker CLI: `Upgrade: tcp`, then the raw socket both ways.
  r.onUpgrade(new RegExp(`^/exec/${ID}/start$`), async ({ req, socket, head, params, apiVersion }) => {
    const id = params[0]!;
    const session = execs.get(id);
    const { body, rest } = await readUpgradeBody(req, socket, head);
    const check = startCheck(body);
    socket.on('error', () => socket.destroy());
    const write = framed(check.tty, (buf) => { if (!socket.writableEnded && !socket.destroyed) socket.write(buf); });
    const started = await execs.start(id, { write, end: () => { if (!socket.writableEnded) socket.end(); } });
    // Written before any output: the command's first bytes wait for the start's answer (pipes buffer them).
    writeUpgraded(socket, streamContentType(check.tty, apiVersion));
    const detach = started.detachKeys ? { keys: started.detachKeys, onDetach: () => started.detach() } : undefined;
    // A terminal's input does not end with the client's (Docker closes an exec's stdin on EOF only without a Tty).
    feedStdin(socket, started.stdin, { endOnHalfClose: !session.config.Tty, first: rest, ...(detach ? { detach } : {}) });
  });

  r.on('GET', new RegExp(`^/exec/${ID}/json$`), ({ res, params }) => {
    sendJson(res, 200, execs.inspect(params[0]!));
  });

  r.on('POST', new RegExp(`^/exec/${ID}/resize$`), ({ res, params, query }) => {
    execs.resize(params[0]!, queryDimension(query, 'h'), queryDimension(query, 'w'));
    sendEmpty(res, 200);
  });
}
