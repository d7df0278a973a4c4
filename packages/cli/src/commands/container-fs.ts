/**
 * `berth cp`, `diff`, `export`, `commit`: the container's files, through
 * the Docker API's archive, changes, export and commit endpoints.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeArchive } from '../archive-io.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { extractOnHost, tarHostPath } from '../host-tar.js';
import { enc, isNotFound } from './common.js';

interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

const GO_MODE_DIR = 2 ** 31;
const KIND = ['C', 'A', 'D'];

export async function diff(ctx: Context, container: string): Promise<number> {
  const client = await ctx.client();
  const changes = await client.json<{ Path: string; Kind: number }[] | null>('GET', `/containers/${enc(container)}/changes`);
  for (const c of changes ?? []) ctx.out.write(`${KIND[c.Kind] ?? '?'} ${c.Path}\n`);
  return 0;
}

export async function exportContainer(ctx: Context, container: string, opts: { output?: string }): Promise<number> {
  const client = await ctx.client();
  await writeArchive(ctx, await client.stream('GET', `/containers/${enc(container)}/export`), opts.output);
  return 0;
}

export async function commit(ctx: Context, container: string, ref: string | undefined,
  opts: { author?: string; message?: string; change: string[]; pause?: boolean }): Promise<number> {
  const client = await ctx.client();
  let repo = '';
  let tag = '';
  if (ref !== undefined) {
    const at = ref.lastIndexOf(':');
    [repo, tag] = at > ref.lastIndexOf('/') ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, ''];
  }
  const res = await client.json<{ Id: string }>('POST', '/commit', {
    query: {
      container, repo, tag, author: opts.author ?? '', comment: opts.message ?? '', pause: opts.pause !== false,
      ...(opts.change.length > 0 ? { changes: opts.change.join('\n') } : {}),
    },
    body: {},
  });
  ctx.out.write(`${res.Id}\n`);
  return 0;
}

/** docker's splitCpArg: a local path starts with / or . or has no colon; otherwise CONTAINER:PATH. */
function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  return i <= 0 ? { path: arg } : { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

async function statIn(ctx: Context, container: string, p: string): Promise<PathStat | undefined> {
  const client = await ctx.client();
  try {
    const res = await client.request('HEAD', `/containers/${enc(container)}/archive`, { query: { path: p } });
    return JSON.parse(Buffer.from(String(res.headers['x-docker-container-path-stat'] ?? ''), 'base64').toString('utf8')) as PathStat;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

const contentsOf = (p: string): boolean => p.endsWith('/.') || p === '.';

/**
 * `berth cp SRC DEST` with docker cp's rules: a directory that exists
 * receives SRC under its own name, a path that does not exist becomes SRC
 * renamed, `SRC/.` copies a directory's contents, `-` is a tar on stdin or
 * stdout, `-L` follows a symlink in SRC, `-a` keeps owners.
 */
export async function cp(ctx: Context, src: string, dest: string, opts: { archive?: boolean; followLink?: boolean }): Promise<number> {
  const from = splitCpArg(src);
  const to = splitCpArg(dest);
  if ((from.container === undefined) === (to.container === undefined)) {
    throw new UsageError('copying between containers or between host paths is not supported: give exactly one CONTAINER:PATH');
  }
  const client = await ctx.client();
  if (from.container !== undefined) {
    let srcPath = from.path;
    const stat = await statIn(ctx, from.container, srcPath);
    if (opts.followLink && stat?.linkTarget) srcPath = stat.linkTarget;
    const archive = await client.stream('GET', `/containers/${enc(from.container)}/archive`, { query: { path: srcPath } });
    if (to.path === '-') {
      await writeArchive(ctx, archive, undefined);
      return 0;
    }
    const target = path.resolve(ctx.cwd, to.path);
    const there = lstatSync(target, { throwIfNoEntry: false });
    const srcName = path.posix.basename(srcPath.replace(/\/+$/, '')) || '/';
    const srcIsDir = stat !== undefined && (stat.mode & GO_MODE_DIR) !== 0;
    if (there?.isDirectory() && !contentsOf(srcPath)) {
      await extractOnHost(archive, target, { keepOwners: opts.archive === true });
    } else {
      if (there && srcIsDir) throw new UsageError(`cannot copy a directory to a file: ${to.path}`);
      const parent = path.dirname(target);
      if (!statSync(parent, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`destination directory ${parent} must exist`);
      await extractOnHost(archive, contentsOf(srcPath) && there?.isDirectory() ? target : parent, {
        keepOwners: opts.archive === true,
        ...(contentsOf(srcPath) && there?.isDirectory() ? {} : { rename: { from: contentsOf(srcPath) ? '.' : srcName, to: path.basename(target) } }),
      });
    }
    return 0;
  }
  const container = to.container!;
  const query = (p: string): Record<string, string> => ({ path: p, noOverwriteDirNonDir: 'true', ...(opts.archive ? { copyUIDGID: 'true' } : {}) });
  if (from.path === '-') {
    await client.request('PUT', `/containers/${enc(container)}/archive`, { query: query(to.path), stream: ctx.stdin, headers: { 'Content-Type': 'application/x-tar' } });
    return 0;
  }
  const source = path.resolve(ctx.cwd, from.path);
  const st = opts.followLink ? statSync(source) : lstatSync(source);
  const destStat = await statIn(ctx, container, to.path);
  const destIsDir = destStat !== undefined && (destStat.mode & GO_MODE_DIR) !== 0;
  if (destStat && !destIsDir && st.isDirectory()) throw new UsageError(`cannot copy a directory to a file: ${dest}`);
  const contents = contentsOf(from.path);
  let putPath: string;
  let name: string;
  if (destIsDir) {
    putPath = to.path;
    name = contents ? '' : path.basename(source);
  } else {
    putPath = path.posix.dirname(to.path.replace(/\/+$/, '')) || '/';
    name = path.posix.basename(to.path.replace(/\/+$/, ''));
  }
  const real = opts.followLink ? realpathSync(source) : source;
  await client.request('PUT', `/containers/${enc(container)}/archive`, {
    query: query(putPath), stream: tarHostPath(real, name), headers: { 'Content-Type': 'application/x-tar' },
  });
  return 0;
}
