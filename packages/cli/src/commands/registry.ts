/** `berth pull`, `berth login`, `berth logout`: the registry side, through the daemon as the docker CLI does it. */
import { createInterface } from 'node:readline';
import type { Context } from '../context.js';
import { readCredentials, registryAuthHeader, removeCredentials, storeCredentials } from '../docker-config.js';
import { DaemonError, UsageError } from '../errors.js';

interface JsonMessage {
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Which `auths` key and X-Registry-Auth server address an image reference's registry has. */
async function registryOf(ref: string): Promise<{ key: string; domain: string }> {
  const { authKey, parseRegistryRef } = await import('@berth/layers');
  const { domain } = parseRegistryRef(ref);
  return { key: authKey(domain), domain };
}

/**
 * Docker's display of a JSON progress stream: one line per layer id,
 * rewritten in place on a terminal; elsewhere each status change once
 * (progress updates skipped), so logs stay readable.
 */
export class ProgressDisplay {
  private readonly lines: string[] = [];
  private readonly index = new Map<string, number>();
  constructor(private readonly out: NodeJS.WritableStream, private readonly tty: boolean) {}

  show(m: JsonMessage): void {
    const text = m.id === undefined ? m.status ?? '' : `${m.id}: ${m.status ?? ''}${m.progress ? ` ${m.progress}` : ''}`;
    if (m.id === undefined || !this.tty) {
      if (!this.tty && m.progress !== undefined) return;
      this.out.write(`${text}\n`);
      return;
    }
    const at = this.index.get(m.id);
    if (at === undefined) {
      this.index.set(m.id, this.lines.length);
      this.lines.push(text);
      this.out.write(`${text}\n`);
      return;
    }
    this.lines[at] = text;
    const up = this.lines.length - at;
    // Up to the layer's line, rewrite it, back down: as the docker CLI does.
    this.out.write(`\x1b[${up}A\r\x1b[2K${text}\r\x1b[${up}B`);
  }
}

/**
 * What `run`/`create` do when the image is missing (`--pull missing`, the
 * default) or always (`--pull always`), as the docker CLI does: "Unable to
 * find image 'X' locally" and the pull's progress on stderr, stdout left to
 * the container. For the lead to wire into run/create.
 */
export async function pullForRun(ctx: Context, image: string, opts: { platform?: string; missing: boolean }): Promise<void> {
  if (opts.missing) ctx.err.write(`Unable to find image '${image}' locally\n`);
  await pull({ ...ctx, out: ctx.err }, image, opts.platform === undefined ? {} : { platform: opts.platform });
}

export async function pull(ctx: Context, image: string, opts: { platform?: string; quiet?: boolean }): Promise<number> {
  const { key } = await registryOf(image);
  const creds = readCredentials(ctx.env, key);
  const at = image.indexOf('@');
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  let fromImage = image;
  let tag = 'latest';
  if (at >= 0) {
    fromImage = image.slice(0, at);
    tag = image.slice(at + 1);
  } else if (colon > slash) {
    fromImage = image.slice(0, colon);
    tag = image.slice(colon + 1);
  }
  const client = await ctx.client();
  const res = await client.stream('POST', '/images/create', {
    query: { fromImage, tag, platform: opts.platform },
    headers: { 'X-Registry-Auth': registryAuthHeader(creds, key) },
  });
  const tty = (ctx.out as NodeJS.WriteStream).isTTY === true;
  const display = new ProgressDisplay(ctx.out, tty);
  let last = '';
  for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    const m = JSON.parse(line) as JsonMessage;
    if (m.error !== undefined || m.errorDetail !== undefined) throw new DaemonError(500, m.errorDetail?.message ?? m.error ?? 'pull failed');
    if (opts.quiet !== true) display.show(m);
    if (m.status?.startsWith('Status: ') === true) last = m.status;
  }
  if (opts.quiet === true) ctx.out.write(`${at >= 0 ? image : `${fromImage}:${tag}`}\n`);
  else if (last !== '') ctx.out.write(`${at >= 0 ? image : `${fromImage}:${tag}`}\n`);
  return 0;
}

/** `berth push NAME[:TAG]`: `POST /images/{name}/push?tag=`, the same progress display as pull. */
export async function push(ctx: Context, image: string): Promise<number> {
  const { key } = await registryOf(image);
  const creds = readCredentials(ctx.env, key);
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const name = colon > slash ? image.slice(0, colon) : image;
  const tag = colon > slash ? image.slice(colon + 1) : 'latest';
  const client = await ctx.client();
  const res = await client.stream('POST', `/images/${name}/push`, {
    query: { tag },
    headers: { 'X-Registry-Auth': registryAuthHeader(creds, key) },
  });
  const display = new ProgressDisplay(ctx.out, (ctx.out as NodeJS.WriteStream).isTTY === true);
  for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    const m = JSON.parse(line) as JsonMessage & { aux?: unknown };
    if (m.error !== undefined || m.errorDetail !== undefined) throw new DaemonError(500, m.errorDetail?.message ?? m.error ?? 'push failed');
    if (m.aux === undefined) display.show(m);
  }
  return 0;
}

async function readStdin(ctx: Context): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of ctx.stdin) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** `berth login`: the daemon checks the credentials with the registry (`POST /auth`); then they go to config.json. */
export async function login(ctx: Context, server: string | undefined, opts: { username?: string; password?: string; passwordStdin?: boolean }): Promise<number> {
  const { authKey, registryDomain } = await import('@berth/layers');
  const domain = registryDomain(server ?? '');
  const key = authKey(domain);
  if (opts.passwordStdin === true && opts.password !== undefined) throw new UsageError('--password and --password-stdin are mutually exclusive');
  if (opts.passwordStdin === true && opts.username === undefined) throw new UsageError('Must provide --username with --password-stdin');
  const password = opts.passwordStdin === true ? await readStdin(ctx) : opts.password;
  if (opts.username === undefined || password === undefined) {
    throw new UsageError('berth login needs --username and --password (or --password-stdin); it does not prompt');
  }
  if (opts.password !== undefined) ctx.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  const client = await ctx.client();
  await client.request('POST', '/auth', { body: { username: opts.username, password, serveraddress: key } });
  storeCredentials(ctx.env, key, { username: opts.username, password });
  ctx.out.write('Login Succeeded\n');
  return 0;
}

export async function logout(ctx: Context, server: string | undefined): Promise<number> {
  const { authKey, registryDomain } = await import('@berth/layers');
  const key = authKey(registryDomain(server ?? ''));
  if (removeCredentials(ctx.env, key)) ctx.out.write(`Removing login credentials for ${key}\n`);
  else ctx.out.write(`Not logged in to ${key}\n`);
  return 0;
}
