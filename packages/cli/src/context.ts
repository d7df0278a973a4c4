/** What every command gets: where the daemon is, the streams, and a client that makes sure a daemon answers. */
import type { Readable, Writable } from 'node:stream';
import { ApiClient } from './client.js';
import { ensureDaemon, socketPathOf } from './daemon.js';

export interface Context {
  readonly root: string;
  readonly host: string;
  readonly socketPath: string;
  readonly out: Writable;
  readonly err: Writable;
  readonly stdin: Readable;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The API client, after a daemon answered (started in the background if needed). */
  client(): Promise<ApiClient>;
}

export interface ContextOptions {
  root: string;
  host: string;
  out?: Writable;
  err?: Writable;
  stdin?: Readable;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function createContext(options: ContextOptions): Context {
  const socketPath = socketPathOf(options.host);
  const env = options.env ?? process.env;
  let ready: Promise<ApiClient> | undefined;
  return {
    root: options.root,
    host: options.host,
    socketPath,
    out: options.out ?? process.stdout,
    err: options.err ?? process.stderr,
    stdin: options.stdin ?? process.stdin,
    cwd: options.cwd ?? process.cwd(),
    env,
    client() {
      ready ??= (async () => {
        const client = new ApiClient(socketPath);
        await ensureDaemon(client, { root: options.root, host: options.host, env });
        return client;
      })();
      return ready;
    },
  };
}
