import { InvalidReferenceError } from '../errors.js';

/** Docker Hub's names: what `busybox` means, and where its API lives. */
export const DEFAULT_DOMAIN = 'docker.io';
const DEFAULT_API_HOST = 'registry-1.docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A registry reference resolved as distribution/reference does it. */
export interface RegistryRef {
  /** `docker.io`, `127.0.0.1:5000`, `registry.example:443`. */
  domain: string;
  /** Path in the registry: `library/busybox`, `me/app`. */
  path: string;
  tag?: string;
  digest?: string;
}

/**
 * Parses `[domain/]path[:tag][@digest]`. The first component is a domain if
 * it has a `.` or `:` or is `localhost`; otherwise the image is on Docker
 * Hub, and a one-component path gets `library/`.
 */
export function parseRegistryRef(ref: string): RegistryRef {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidReferenceError(ref, `${JSON.stringify(digest)} is not a sha256 digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReferenceError(ref, `tag ${JSON.stringify(tag)} is not valid`);
  }
  const parts = rest.split('/');
  let domain = DEFAULT_DOMAIN;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = first === 'index.docker.io' ? DEFAULT_DOMAIN : first;
    parts.shift();
  }
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift('library');
  if (parts.length === 0 || !parts.every((p) => COMPONENT.test(p))) {
    throw new InvalidReferenceError(ref, 'repository names are lowercase letters, digits and separators (. _ __ -)');
  }
  const out: RegistryRef = { domain, path: parts.join('/') };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** The name as Docker shows it: `busybox`, `me/app`, `127.0.0.1:5000/app`. */
export function familiarName(r: Pick<RegistryRef, 'domain' | 'path'>): string {
  if (r.domain !== DEFAULT_DOMAIN) return `${r.domain}/${r.path}`;
  return r.path.startsWith('library/') && r.path.split('/').length === 2 ? r.path.slice('library/'.length) : r.path;
}

/** Where a domain's API answers: Docker Hub's API host differs from its name. */
export function apiHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? DEFAULT_API_HOST : domain;
}

/** `familiar[:tag][@digest]`, for messages. */
export function formatRef(r: RegistryRef): string {
  return `${familiarName(r)}${r.tag === undefined ? '' : `:${r.tag}`}${r.digest === undefined ? '' : `@${r.digest}`}`;
}

/** `docker.io/library/x:tag`: the fully qualified name, as moby's `reference.Named.String()` writes it. */
export function fullRef(r: RegistryRef): string {
  return `${r.domain}/${r.path}${r.tag === undefined ? '' : `:${r.tag}`}${r.digest === undefined ? '' : `@${r.digest}`}`;
}

/** The key of a registry in the docker CLI's config.json `auths`: Docker Hub's is its v1 index URL. */
export function authKey(domain: string): string {
  return domain === DEFAULT_DOMAIN ? 'https://index.docker.io/v1/' : domain;
}

/**
 * The registry a `docker login` server address names: `https://index.docker.io/v1/`
 * and empty mean Docker Hub; a scheme and path are dropped.
 */
export function registryDomain(serverAddress: string): string {
  const trimmed = serverAddress.trim().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (trimmed === '' || trimmed === 'index.docker.io' || trimmed === 'registry-1.docker.io' || trimmed === DEFAULT_DOMAIN) return DEFAULT_DOMAIN;
  return trimmed;
}
