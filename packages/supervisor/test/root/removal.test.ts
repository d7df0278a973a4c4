/**
 * A container's removal answers once its records are gone; the deletion of
 * its writable layer and of the supervisor's own directory for it (`.del-*`
 * directories, out of sight at once) may still run then, and the
 * supervisor's close finishes it: a stop leaves no half-deleted directory
 * behind, and a kill's are removed by the next start (the layer store's
 * reconcile, the supervisor's sweep).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { expect, it } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { busyboxImageArchive } from '../helpers/busybox-image.js';
import { describeRoot } from '@berth/testing';

const run = promisify(execFile);

describeRoot('removal (docker CLI)', () => {
  it('run --rm answers with the layer directory out of sight; close finishes its deletion', async () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-removal-'));
    const socketPath = join(root, 'berth.sock');
    const sup = await Supervisor.start({ root: join(root, 'state'), socketPath, workers: 1 });
    let closed = false;
    try {
      const docker = new Docker({ socketPath });
      const loaded = await docker.loadImage(Buffer.from(await busyboxImageArchive()) as unknown as NodeJS.ReadableStream);
      await new Promise((r) => (loaded as NodeJS.ReadableStream).on('end', r).resume());
      const env = { ...process.env, DOCKER_HOST: `unix://${socketPath}`, DOCKER_CONFIG: join(root, 'docker-config') };
      // Enough files in the writable layer that their deletion is still running when the removal has answered.
      const made = await run('docker', ['run', '--rm', 'berth-test/busybox', 'sh', '-c', 'mkdir /x && cd /x && seq 20000 | xargs touch && echo made'], { env });
      expect(made.stdout).toBe('made\n');
      const id = (await run('docker', ['run', '-d', 'berth-test/busybox', 'sh', '-c', 'mkdir /x && cd /x && seq 20000 | xargs touch'], { env })).stdout.trim();
      expect((await docker.getContainer(id).wait()).StatusCode).toBe(0);
      await docker.getContainer(id).remove();
      expect((await docker.listContainers({ all: true })).length).toBe(0);
      const containersDir = join(root, 'state', 'containers');
      const ownDir = join(root, 'state', 'supervisor');
      // Nothing under a container's id: what is left is being deleted under a temporary name.
      expect(readdirSync(containersDir).filter((n) => !n.startsWith('.'))).toEqual([]);
      expect(readdirSync(ownDir).filter((n) => !n.startsWith('.'))).toEqual([]);
      await sup.close();
      closed = true;
      expect(readdirSync(containersDir).filter((n) => n.startsWith('.del-')), 'deletions left unfinished by close').toEqual([]);
      expect(readdirSync(ownDir).filter((n) => n.startsWith('.del-')), 'deletions left unfinished by close').toEqual([]);
    } finally {
      if (!closed) await sup.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);

  it('a start deletes what a killed supervisor left being deleted', async () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-removal-'));
    const socketPath = join(root, 'berth.sock');
    const leftovers = ['supervisor', 'network-files'].map((parent) => join(root, 'state', parent, '.del-0123456789abcdef'));
    for (const dir of leftovers) mkdirSync(join(dir, 'inner'), { recursive: true });
    const sup = await Supervisor.start({ root: join(root, 'state'), socketPath, workers: 1 });
    try {
      expect(leftovers.filter((dir) => existsSync(dir))).toEqual([]);
    } finally {
      await sup.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
