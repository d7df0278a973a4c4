/**
 * `POST /containers/{id}/wait` the way the docker CLI does it: the call
 * returns once the response headers arrive, which is when the daemon has
 * registered the waiter, and only then may the caller start the container.
 *
 * dockerode's `container.wait()` settles only with the body, so
 * `const w = c.wait({condition: 'next-exit'}); await c.start(); await w`
 * races: a container that exits before the wait request reaches the daemon
 * has no "next" exit, and the wait never answers.
 *
 * Every outcome settles: the answer, an HTTP error, or the connection dying
 * with a SIGKILLed daemon (where dockerode's wait can stay pending forever).
 */
import { request } from 'node:http';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface RegisteredWait {
  /** The exit, once it happens (or, for `removed`, once the container is gone). */
  readonly exited: Promise<{ StatusCode: number }>;
}

const connectionLost = (message: string): Error => Object.assign(new Error(message), { code: 'ECONNRESET' });

/** Resolves once the daemon has registered the wait; rejects with `statusCode` when it refuses (404 for a missing container). */
export function waitContainer(socketPath: string, id: string, condition: WaitCondition = 'not-running'): Promise<RegisteredWait> {
  return new Promise((registered, refused) => {
    const req = request({ socketPath, method: 'POST', path: `/containers/${id}/wait?condition=${condition}`, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      if ((res.statusCode ?? 500) >= 300) {
        res.on('data', (c: string) => (body += c));
        res.on('end', () => refused(Object.assign(new Error(body), { statusCode: res.statusCode })));
        return;
      }
      const exited = new Promise<{ StatusCode: number }>((resolve, reject) => {
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          if (!res.complete) return reject(connectionLost('the daemon closed the connection before answering'));
          try {
            resolve(JSON.parse(body) as { StatusCode: number });
          } catch {
            reject(connectionLost(`unreadable wait answer: ${body}`));
          }
        });
        res.on('aborted', () => reject(connectionLost('aborted')));
        res.on('error', reject);
        req.on('close', () => reject(connectionLost('connection closed')));
      });
      // A caller that fails before awaiting the exit must not leave an unhandled rejection behind.
      exited.catch(() => undefined);
      registered({ exited });
    });
    req.on('error', refused);
    req.on('close', () => refused(connectionLost('connection closed before the daemon registered the wait')));
    req.end();
  });
}
