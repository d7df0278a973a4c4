// Minimal typings for the two untyped dependencies (no @types packages are
// installed in this workspace). Only what this package uses.

declare module 'better-sqlite3' {
  namespace Database {
    interface RunResult { changes: number; lastInsertRowid: number | bigint }
    interface Statement<Row = unknown> {
      run(...params: unknown[]): RunResult;
      get(...params: unknown[]): Row | undefined;
      all(...params: unknown[]): Row[];
      iterate(...params: unknown[]): IterableIterator<Row>;
      pluck(on?: boolean): Statement;
      raw(on?: boolean): Statement<unknown[]>;
    }
    interface Transaction<F extends (...args: never[]) => unknown> {
      (...args: Parameters<F>): ReturnType<F>;
      immediate(...args: Parameters<F>): ReturnType<F>;
      deferred(...args: Parameters<F>): ReturnType<F>;
      exclusive(...args: Parameters<F>): ReturnType<F>;
    }
    interface Database {
      prepare<Row = unknown>(sql: string): Statement<Row>;
      exec(sql: string): Database;
      pragma(source: string, options?: { simple?: boolean }): unknown;
      transaction<F extends (...args: never[]) => unknown>(fn: F): Transaction<F>;
      close(): Database;
      readonly open: boolean;
      readonly inTransaction: boolean;
    }
    interface Options { readonly?: boolean; fileMustExist?: boolean; timeout?: number }
  }
  interface DatabaseConstructor {
    new (filename: string, options?: Database.Options): Database.Database;
  }
  const Database: DatabaseConstructor;
  export = Database;
}

declare module 'tar-stream' {
  import type { Readable, Writable } from 'node:stream';
  export type EntryType =
    | 'file' | 'link' | 'symlink' | 'directory' | 'block-device' | 'character-device' | 'fifo'
    | 'contiguous-file' | 'pax-header' | 'pax-global-header' | 'gnu-long-link-path' | 'gnu-long-path';
  export interface Headers {
    name: string;
    size?: number;
    mode?: number;
    mtime?: Date;
    type?: EntryType;
    linkname?: string | null;
    uid?: number;
    gid?: number;
    uname?: string;
    gname?: string;
    devmajor?: number;
    devminor?: number;
    pax?: Record<string, string> | null;
  }
  export interface Entry extends Readable { header: Headers }
  export interface Pack extends Readable {
    entry(headers: Headers, buffer?: Buffer | string, callback?: (err?: Error | null) => void): Writable;
    entry(headers: Headers, callback?: (err?: Error | null) => void): Writable;
    finalize(): void;
  }
  export interface Extract extends Writable, AsyncIterable<Entry> {}
  export function pack(opts?: unknown): Pack;
  export function extract(opts?: unknown): Extract;
}
