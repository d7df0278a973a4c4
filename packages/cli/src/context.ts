/** What every command gets: where the daemon is, the streams, and a client that makes sure a daemon answers. */
import type { Readable, Writable } from 'node:stream';
import { ApiClient } from './client.js';
import { socketPathOf, startDaemon } from './daemon.js';

export interface Context {
  readonly root: string;
  readonly host: string;
  readonly socketPath: string;
  readonly out: Writable;
  readonly err: Writable;
  readonly stdin: Readable;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The API client; its first request starts a daemon in the background when nothing listens. */
  client(): Promise<ApiClient>;
  /** Closes the client's kept-alive connections (the command is done). */
  close(): void;
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
  let client: ApiClient | undefined;
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
      if (client === undefined) {
        const made: ApiClient = new ApiClient(socketPath, {
          onUnreachable: () => startDaemon(made, { root: options.root, host: options.host, env }),
        });
        client = made;
      }
      return Promise.resolve(client);
    },
    close() {
      client?.close();
    },
  };
}
