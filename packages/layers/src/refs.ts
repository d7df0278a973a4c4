import { createHash, randomBytes } from 'node:crypto';
import { InvalidReferenceError } from './errors.js';

const HEX64 = /^[a-f0-9]{64}$/;

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `sha256:<hex>` -> `<hex>`; refuses anything else. */
export function digestHex(digest: string, what: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m?.[1]) throw new InvalidReferenceError(digest, `${what} is not a sha256 digest`);
  return m[1];
}

/**
 * Docker's chain id: chainID(L0) = diffID(L0), chainID(Ln) =
 * sha256(chainID(Ln-1) + " " + diffID(Ln)). Returns the hex of each, bottom
 * first; they are the layer ids, so images sharing a base share its layers.
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let chain: string | undefined;
  for (const diffId of diffIds) {
    digestHex(diffId, 'diffID');
    chain = chain === undefined ? diffId : `sha256:${sha256Hex(`${chain} ${diffId}`)}`;
    out.push(chain.slice('sha256:'.length));
  }
  return out;
}

const SHORT_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Length of the `l/` link names. 10 of 36 symbols: 3.6e15 names, and 128 layers fit one page. */
export const SHORT_NAME_LENGTH = 10;

export function randomShortName(): string {
  const bytes = randomBytes(SHORT_NAME_LENGTH);
  let s = '';
  for (const b of bytes) s += SHORT_ALPHABET[b % SHORT_ALPHABET.length];
  return s;
}

export function randomSuffix(): string {
  return randomBytes(8).toString('hex');
}

export function isFullId(s: string): boolean {
  return HEX64.test(s);
}

const NAME_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Normalises `name[:tag]` to docker's short display form: default tag
 * `latest`, `docker.io/library/` and `docker.io/` dropped.
 * `docker.io/library/busybox:1` -> `busybox:1`, `me/app` -> `me/app:latest`.
 */
export function normalizeTag(ref: string): string {
  if (ref.includes('@')) throw new InvalidReferenceError(ref, 'digest references cannot name a tag');
  let name = ref;
  let tag = 'latest';
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) {
    name = ref.slice(0, colon);
    tag = ref.slice(colon + 1);
  }
  if (!TAG.test(tag)) throw new InvalidReferenceError(ref, `tag ${JSON.stringify(tag)} is not valid`);
  const parts = name.split('/');
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first === 'docker.io' || first === 'index.docker.io' || first === 'registry-1.docker.io')) {
    parts.shift();
    if (parts.length > 1 && parts[0] === 'library') parts.shift();
  }
  const hasRegistry = parts.length > 1 && /[.:]|^localhost$/.test(parts[0] ?? '');
  const path = hasRegistry ? parts.slice(1) : parts;
  if (path.length === 0 || !path.every((p) => NAME_COMPONENT.test(p))) {
    throw new InvalidReferenceError(ref, 'repository names are lowercase letters, digits and separators (. _ __ -)');
  }
  return `${parts.join('/')}:${tag}`;
}

/** A normalised tag, or undefined when `ref` cannot be a tag (e.g. a bare id). */
export function tryNormalizeTag(ref: string): string | undefined {
  try {
    return normalizeTag(ref);
  } catch {
    return undefined;
  }
}
