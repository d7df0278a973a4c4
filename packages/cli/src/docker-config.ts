/**
 * The docker CLI's config file (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`): berth reads and writes registry credentials in
 * its `auths` map (`{"auth": base64("user:password")}`), so `docker login`
 * and `berth login` share them. Credential helpers (`credsStore`,
 * `credHelpers`) keep secrets outside the file; berth does not run them and
 * says so rather than pull anonymously.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './errors.js';

export interface StoredCredentials { username: string; password: string }

export function configPath(env: NodeJS.ProcessEnv): string {
  const dir = env['DOCKER_CONFIG'] ?? join(env['HOME'] ?? homedir(), '.docker');
  return join(dir, 'config.json');
}

function readConfig(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : {};
  } catch (error) {
    throw new CliError('DOCKER_CONFIG_INVALID', `failed to read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

function refuseHelpers(doc: Record<string, unknown>, key: string, file: string): void {
  const helpers = doc['credHelpers'];
  const helper = typeof helpers === 'object' && helpers !== null ? (helpers as Record<string, unknown>)[key] : undefined;
  if (typeof helper === 'string' && helper !== '') {
    throw new CliError('CREDENTIAL_HELPER', `${file} names the credential helper docker-credential-${helper} for ${key}; berth does not run credential helpers: remove it from credHelpers to keep the credentials in the file`);
  }
  if (typeof doc['credsStore'] === 'string' && doc['credsStore'] !== '') {
    throw new CliError('CREDENTIAL_HELPER', `${file} sets credsStore "${doc['credsStore']}"; berth does not run credential helpers: remove credsStore to keep the credentials in the file`);
  }
}

/** The credentials stored for a registry key (`127.0.0.1:5000`, `https://index.docker.io/v1/`). */
export function readCredentials(env: NodeJS.ProcessEnv, key: string): StoredCredentials | undefined {
  const file = configPath(env);
  const doc = readConfig(file);
  const auths = (doc['auths'] ?? {}) as Record<string, { auth?: string; username?: string; password?: string }>;
  const entry = auths[key] ?? auths[`https://${key}`] ?? auths[`http://${key}`];
  if (entry === undefined) {
    refuseHelpers(doc, key, file);
    return undefined;
  }
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new CliError('DOCKER_CONFIG_INVALID', `failed to read ${file}: the auth of ${key} is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password };
  refuseHelpers(doc, key, file);
  return undefined;
}

/** Writes the file whole under a temporary name, then renames it (0600: it holds secrets). */
function writeConfig(file: string, doc: Record<string, unknown>): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(doc, null, '\t')}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function storeCredentials(env: NodeJS.ProcessEnv, key: string, creds: StoredCredentials): void {
  const file = configPath(env);
  const doc = readConfig(file);
  refuseHelpers(doc, key, file);
  const auths = { ...((doc['auths'] ?? {}) as Record<string, unknown>) };
  auths[key] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  writeConfig(file, { ...doc, auths });
}

/** True when there was an entry to remove. */
export function removeCredentials(env: NodeJS.ProcessEnv, key: string): boolean {
  const file = configPath(env);
  const doc = readConfig(file);
  const auths = { ...((doc['auths'] ?? {}) as Record<string, unknown>) };
  if (!(key in auths)) return false;
  delete auths[key];
  writeConfig(file, { ...doc, auths });
  return true;
}

/** The X-Registry-Auth header value for stored credentials (base64url JSON, as the docker CLI sends it). */
export function registryAuthHeader(creds: StoredCredentials | undefined, serverAddress: string): string {
  const doc = creds === undefined ? {} : { username: creds.username, password: creds.password, serveraddress: serverAddress };
  return Buffer.from(JSON.stringify(doc)).toString('base64url');
}
