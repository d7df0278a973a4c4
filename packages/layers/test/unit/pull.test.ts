// Pulls from a real registry (Debian's docker-registry, started per suite
// on 127.0.0.1), with images put in by skopeo. The store runs on the
// recording syscalls double, so no privileges are needed.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { pullImage, type PullEvent } from '../../src/index.js';
import { dockerSave, sampleLayers, snapshotStore, tarOf } from '../fixtures.js';
import { tempStore, type TestStore } from './helpers.js';
import { type TestRegistry, skopeoPush, skopeoRawManifest, startRegistry } from '@berth/testing';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let t: TestStore;
beforeEach(() => { t = tempStore(); });
afterEach(() => t.cleanup());

/** A docker-save archive of the sample image, written to the store's temp dir. */
async function sampleArchive(dir: string, tag: string, extra?: Buffer): Promise<{ path: string; archive: Buffer }> {
  const layers = await sampleLayers();
  if (extra) layers.push(extra);
  const archive = await dockerSave([{ layers, tags: [tag] }]);
  const path = join(dir, `${tag.replace(/[/:]/g, '_')}.tar`);
  writeFileSync(path, archive);
  return { path, archive };
}

describe('pull from an open registry', () => {
  let reg: TestRegistry;
  beforeAll(async () => { reg = await startRegistry(); });
  afterAll(() => reg.stop());

  it('pulls by tag: image id = config digest, layers as a load of the same image, RepoDigests, then "up to date"', async () => {
    const { path, archive } = await sampleArchive(t.dir, 'sample:1');
    await skopeoPush(reg, `docker-archive:${path}`, 'sample:1');
    const events: PullEvent[] = [];
    const img = await pullImage(t.store, `${reg.host}/sample:1`, { onEvent: (e) => events.push(e) });
    const other = tempStore();
    try {
      const [loaded] = (await other.store.importImage(Readable.from(archive))).images;
      expect(img.id).toBe(loaded!.id);
      expect(img.layers).toEqual(loaded!.layers);
      expect(img.diffIds).toEqual(loaded!.diffIds);
    } finally {
      await other.cleanup();
    }
    expect(img.tags).toEqual([`${reg.host}/sample:1`]);
    expect(img.repoDigests).toHaveLength(1);
    expect(img.repoDigests[0]).toMatch(new RegExp(`^${reg.host}/sample@sha256:[a-f0-9]{64}$`));
    expect(readFileSync(join(t.root, 'layers', img.layers[0]!, 'diff/etc/passwd'), 'utf8')).toContain('root');
    expect(events.filter((e) => e.kind === 'layer' && e.status === 'Pull complete')).toHaveLength(3);
    expect(events.at(-1)).toEqual({ kind: 'done', upToDate: false, ref: `${reg.host}/sample:1` });
    // The compressed blobs each layer came as, for a later push.
    expect(t.store.layerBlobs(img.diffIds[0]!)[0]).toMatchObject({ repository: `${reg.host}/sample` });

    const again: PullEvent[] = [];
    await pullImage(t.store, `${reg.host}/sample:1`, { onEvent: (e) => again.push(e) });
    expect(again.filter((e) => e.kind === 'layer').map((e) => e.kind === 'layer' && e.status)).toEqual(['Already exists', 'Already exists', 'Already exists']);
    expect(again.at(-1)).toMatchObject({ kind: 'done', upToDate: true });

    // By digest: no tag, found by its repo digest.
    const digest = img.repoDigests[0]!.split('@')[1]!;
    const byDigest = tempStore();
    try {
      const d = await pullImage(byDigest.store, `${reg.host}/sample@${digest}`);
      expect(d.tags).toEqual([]);
      expect(byDigest.store.findImage(`${reg.host}/sample@${digest}`)?.id).toBe(img.id);
    } finally {
      await byDigest.cleanup();
    }
  });

  it('skips the layers already stored and downloads only the new one', async () => {
    const { path: base } = await sampleArchive(t.dir, 'base:1');
    await skopeoPush(reg, `docker-archive:${base}`, 'base:1');
    const { path: child } = await sampleArchive(t.dir, 'child:1', await tarOf([{ name: 'added', body: 'new' }]));
    await skopeoPush(reg, `docker-archive:${child}`, 'child:1');
    await pullImage(t.store, `${reg.host}/base:1`);
    const events: PullEvent[] = [];
    const img = await pullImage(t.store, `${reg.host}/child:1`, { onEvent: (e) => events.push(e) });
    const statuses = events.flatMap((e) => (e.kind === 'layer' && (e.status === 'Already exists' || e.status === 'Pull complete') ? [e.status] : []));
    expect(statuses).toEqual(['Already exists', 'Already exists', 'Already exists', 'Pull complete']);
    expect(readFileSync(join(t.root, 'layers', img.layers[3]!, 'diff/added'), 'utf8')).toBe('new');
  });

  it('answers "manifest unknown" for a tag that is not there', async () => {
    await expect(pullImage(t.store, `${reg.host}/nothing:here`)).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN', message: `manifest for ${reg.host}/nothing:here not found: manifest unknown: manifest unknown`,
    });
  });

  it('picks the platform from an index: the host by default, another when asked', async () => {
    const { path: a } = await sampleArchive(t.dir, 'amd:1');
    const { path: b } = await sampleArchive(t.dir, 'arm:1', await tarOf([{ name: 'arm', body: 'arm' }]));
    await skopeoPush(reg, `docker-archive:${a}`, 'multi:amd');
    await skopeoPush(reg, `docker-archive:${b}`, 'multi:arm');
    const manifestOf = async (tag: string): Promise<{ digest: string; size: number; mediaType: string }> => {
      const raw = await skopeoRawManifest(reg, `multi:${tag}`);
      const digest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
      return { digest, size: raw.length, mediaType: (JSON.parse(raw.toString()) as { mediaType: string }).mediaType };
    };
    const index = {
      schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
      manifests: [
        { ...(await manifestOf('arm')), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { ...(await manifestOf('amd')), platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    const res = await fetch(`http://${reg.host}/v2/multi/manifests/latest`, {
      method: 'PUT', headers: { 'Content-Type': index.mediaType }, body: JSON.stringify(index),
    });
    expect(res.status).toBe(201);
    const host = await pullImage(t.store, `${reg.host}/multi`);
    const arm = await pullImage(t.store, `${reg.host}/multi:latest`, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    expect(host.id).not.toBe(arm.id);
    expect(arm.layers).toHaveLength(4);
    expect(host.layers).toHaveLength(3);
    await expect(pullImage(t.store, `${reg.host}/multi`, { platform: { os: 'linux', architecture: 's390x' } }))
      .rejects.toMatchObject({ code: 'NO_MATCHING_PLATFORM' });
  });

  it('a blob whose bytes do not match its digest leaves nothing behind', async () => {
    const { path } = await sampleArchive(t.dir, 'bad:1');
    await skopeoPush(reg, `docker-archive:${path}`, 'bad:1');
    const raw = (await skopeoRawManifest(reg, 'bad:1')).toString();
    const layer = (JSON.parse(raw) as { layers: { digest: string }[] }).layers[1]!.digest.slice(7);
    const file = join(reg.dir, 'data/docker/registry/v2/blobs/sha256', layer.slice(0, 2), layer, 'data');
    const bytes = readFileSync(file);
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(file, bytes);
    const before = snapshotStore(t.root);
    await expect(pullImage(t.store, `${reg.host}/bad:1`)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(snapshotStore(t.root)).toBe(before);
    expect(readdirSync(join(t.root, 'layers'))).toEqual([]);
  });
});

describe('a schema 1 manifest', () => {
  let reg: TestRegistry;
  beforeAll(async () => { reg = await startRegistry({ schema1: true }); });
  afterAll(() => reg.stop());

  it("is refused with moby's text (Docker 28's DeprecatedSchema1ImageError), an invalid-parameter error, the store untouched", async () => {
    const layers = await sampleLayers();
    const path = join(t.dir, 'old.tar');
    writeFileSync(path, await dockerSave([{ layers, tags: ['old:1'], history: layers.map((_, i) => ({ created: '2024-01-02T03:04:05Z', created_by: `layer ${i}` })) }]));
    await skopeoPush(reg, `docker-archive:${path}`, 'old:1', { format: 'v2s1' });
    // What the registry serves really is schema 1 (signed by skopeo).
    expect(JSON.parse((await skopeoRawManifest(reg, 'old:1')).toString())).toMatchObject({ schemaVersion: 1 });
    const before = snapshotStore(t.root);
    const refusal = pullImage(t.store, `${reg.host}/old:1`);
    await expect(refusal).rejects.toMatchObject({
      code: 'SCHEMA1_REMOVED', kind: 'invalid-parameter',
      message: `Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of ${reg.host}/old:1 to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/`,
    });
    expect(snapshotStore(t.root)).toBe(before);
    expect(t.store.listImages()).toEqual([]);
  });
});

describe('pull with basic auth (htpasswd)', () => {
  let reg: TestRegistry;
  beforeAll(async () => { reg = await startRegistry({ auth: 'basic' }); });
  afterAll(() => reg.stop());

  it('refuses without credentials and pulls with them', async () => {
    const { path } = await sampleArchive(t.dir, 'private:1');
    await skopeoPush(reg, `docker-archive:${path}`, 'private:1');
    await expect(pullImage(t.store, `${reg.host}/private:1`)).rejects.toMatchObject({ code: 'REGISTRY_UNAUTHORIZED', message: 'no basic auth credentials' });
    await expect(pullImage(t.store, `${reg.host}/private:1`, { credentials: { username: reg.user!, password: 'wrong' } }))
      .rejects.toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    const img = await pullImage(t.store, `${reg.host}/private:1`, { credentials: { username: reg.user!, password: reg.password! } });
    expect(img.tags).toEqual([`${reg.host}/private:1`]);
    await expect(t.store.login(reg.host, { username: reg.user!, password: 'wrong' })).rejects.toMatchObject({
      code: 'LOGIN_FAILED', message: `login attempt to http://${reg.host}/v2/ failed with status: 401 Unauthorized`,
    });
    await t.store.login(reg.host, { username: reg.user!, password: reg.password! });
  });
});

describe('pull with bearer tokens (a token issuer the registry trusts)', () => {
  let reg: TestRegistry;
  beforeAll(async () => { reg = await startRegistry({ auth: 'token' }); });
  afterAll(() => reg.stop());

  it('gets a token for the repository scope, with the credentials', async () => {
    const { path } = await sampleArchive(t.dir, 'tok:1');
    await skopeoPush(reg, `docker-archive:${path}`, 'tok:1');
    await expect(pullImage(t.store, `${reg.host}/tok:1`)).rejects.toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    const before = reg.tokenRequests();
    const img = await pullImage(t.store, `${reg.host}/tok:1`, { credentials: { username: reg.user!, password: reg.password! } });
    expect(img.layers).toHaveLength(3);
    // One token for the scope, reused for the manifest, the config and every layer.
    expect(reg.tokenRequests() - before).toBe(1);
  });

  it('docker login: a token for the credentials, or LOGIN_FAILED', async () => {
    await expect(t.store.login(reg.host, { username: reg.user!, password: 'wrong' })).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
    await t.store.login(`http://${reg.host}/`, { username: reg.user!, password: reg.password! });
  });
});
