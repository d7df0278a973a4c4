/**
 * Images from registries through berth's socket, driven by the docker CLI
 * and berth's own CLI, against Debian's docker-registry (open and with
 * htpasswd basic auth) filled by skopeo; plus `docker load` of something
 * that is not an archive and `docker import`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busyboxImageArchive } from '../helpers/busybox-image.js';
import { type TestRegistry, describeRoot, hostMountTable, skopeoPush, skopeoRawManifest, startRegistry } from '@berth/testing';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

describeRoot('registries through berth (docker CLI, berth CLI)', () => {
  let root: string;
  let socketPath: string;
  let daemon: ChildProcess;
  let mountsBefore: string;
  let open: TestRegistry;
  let basic: TestRegistry;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${socketPath}`, DOCKER_CONFIG: join(root, 'docker-config') });
  const docker = (...args: string[]): Promise<{ stdout: string; stderr: string }> => run('docker', args, { env: env() });
  const berth = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
    run(process.execPath, [join(REPO, 'packages/cli/bin/berth.js'), '--root', root, '--host', `unix://${socketPath}`, ...args], { env: env() });

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    root = mkdtempSync(join(tmpdir(), 'berth-registry-e2e-'));
    socketPath = join(root, 'berth.sock');
    const code = `import { runDaemon } from '@berth/supervisor';\nawait runDaemon({ root: ${JSON.stringify(root)}, socketPath: ${JSON.stringify(socketPath)} });\n`;
    daemon = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'inherit', 'inherit'], cwd: REPO });
    for (let i = 0; i < 200 && !existsSync(socketPath); i++) await sleep(50);
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      try { await new Docker({ socketPath }).ping(); up = true; } catch { await sleep(50); }
    }
    if (!up) throw new Error('the supervisor did not come up');
    // schema1: so a schema 1 manifest can be put in, to see it refused.
    open = await startRegistry({ schema1: true });
    basic = await startRegistry({ auth: 'basic' });
    writeFileSync(join(root, 'busybox.tar'), await busyboxImageArchive());
    await skopeoPush(open, `docker-archive:${join(root, 'busybox.tar')}`, 'bb:1');
    await skopeoPush(basic, `docker-archive:${join(root, 'busybox.tar')}`, 'private/bb:1');
  });

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
    }
    await open?.stop();
    await basic?.stop();
    rmSync(root, { recursive: true, force: true });
    expect(hostMountTable()).toBe(mountsBefore);
  });

  it('docker pull: the image runs, RepoDigests in inspect, "Image is up to date" the second time, by digest too', async () => {
    const first = await docker('pull', `${open.host}/bb:1`);
    expect(first.stdout).toContain(`1: Pulling from bb`);
    expect(first.stdout).toContain('Pull complete');
    expect(first.stdout).toContain(`Status: Downloaded newer image for ${open.host}/bb:1`);
    const [img] = JSON.parse((await docker('image', 'inspect', `${open.host}/bb:1`)).stdout) as { Id: string; RepoDigests: string[]; RootFS: { Layers: string[] } }[];
    expect(img!.RepoDigests).toHaveLength(1);
    expect(img!.RepoDigests[0]).toMatch(new RegExp(`^${open.host}/bb@sha256:[a-f0-9]{64}$`));
    expect((await docker('run', '--rm', `${open.host}/bb:1`, 'echo', 'pulled')).stdout).toBe('pulled\n');
    const second = await docker('pull', `${open.host}/bb:1`);
    expect(second.stdout).toContain(`Status: Image is up to date for ${open.host}/bb:1`);
    const digest = img!.RepoDigests[0]!.split('@')[1]!;
    const byDigest = await docker('pull', `${open.host}/bb@${digest}`);
    expect(byDigest.stdout).toContain(`Digest: ${digest}`);
    await expect(docker('pull', `${open.host}/nothing:here`)).rejects.toMatchObject({
      stderr: expect.stringContaining(`manifest for ${open.host}/nothing:here not found: manifest unknown: manifest unknown`),
    });
  });

  it("docker pull of a schema 1 manifest: moby's removal text, nothing stored", async () => {
    writeFileSync(join(root, 'old.tar'), await busyboxImageArchive('old:1', '/bin/busybox', { history: true }));
    await skopeoPush(open, `docker-archive:${join(root, 'old.tar')}`, 'old:1', { format: 'v2s1' });
    const before = (await docker('images', '-q', '--no-trunc')).stdout;
    await expect(docker('pull', `${open.host}/old:1`)).rejects.toMatchObject({
      stderr: expect.stringContaining(`Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of ${open.host}/old:1 to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/`),
    });
    expect((await docker('images', '-q', '--no-trunc')).stdout).toBe(before);
  });

  it('the API create never pulls: "No such image"', async () => {
    const res = await fetchOnSocket('POST', '/containers/create', JSON.stringify({ Image: `${open.host}/never:pulled` }));
    expect(res.status).toBe(404);
    expect(res.body).toContain(`No such image: ${open.host}/never:pulled`);
  });

  it('berth run pulls a missing image as docker run does (--pull missing, the default); --pull never and always; --platform of another arch refused', async () => {
    await skopeoPush(open, `docker-archive:${join(root, 'busybox.tar')}`, 'bb:run');
    const image = `${open.host}/bb:run`;
    await expect(berth('run', '--rm', '--network', 'none', '--pull', 'never', image, 'true')).rejects.toMatchObject({ stderr: expect.stringMatching(/No such image/) });
    const first = await berth('run', '--rm', '--network', 'none', image, 'echo', 'ran');
    expect(first.stdout).toBe('ran\n');
    expect(first.stderr).toContain(`Unable to find image '${image}' locally`);
    // Present now: no pull, nothing on stderr.
    const second = await berth('run', '--rm', '--network', 'none', image, 'echo', 'again');
    expect(second).toEqual({ stdout: 'again\n', stderr: '' });
    const always = await berth('create', '--pull', 'always', image);
    expect(always.stderr).toContain('Image is up to date');
    expect(always.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    await berth('rm', always.stdout.trim());
    await expect(berth('run', '--pull', 'sometimes', image)).rejects.toMatchObject({
      stderr: expect.stringContaining('invalid pull option: \'sometimes\': must be one of "always", "missing" or "never"'),
    });
    // The docker CLI sends the platform with the create: another one is refused by name, not ignored.
    await expect(docker('run', '--rm', '--network', 'none', '--platform', 'linux/arm64', image, 'true')).rejects.toMatchObject({
      stderr: expect.stringContaining('berth does not implement creating a container for platform linux/arm64/v8'),
    });
    const hostArch = process.arch === 'x64' ? 'amd64' : process.arch;
    expect((await docker('run', '--rm', '--network', 'none', '--platform', `linux/${hostArch}`, image, 'echo', 'host')).stdout).toBe('host\n');
  });

  it('docker login, then pull with basic auth; berth login/logout keep config.json as the docker CLI does', async () => {
    await expect(docker('pull', `${basic.host}/private/bb:1`)).rejects.toMatchObject({ stderr: expect.stringContaining('no basic auth credentials') });
    await expect(docker('login', basic.host, '-u', basic.user!, '-p', 'wrong')).rejects.toMatchObject({ stderr: expect.stringContaining('401') });
    const login = await docker('login', basic.host, '-u', basic.user!, '-p', basic.password!);
    expect(login.stdout).toContain('Login Succeeded');
    expect((await docker('pull', `${basic.host}/private/bb:1`)).stdout).toContain(`Status: Downloaded newer image for ${basic.host}/private/bb:1`);
    await docker('logout', basic.host);
    await docker('rmi', `${basic.host}/private/bb:1`);

    const config = join(root, 'docker-config', 'config.json');
    const ok = await berth('login', basic.host, '-u', basic.user!, '-p', basic.password!);
    expect(ok.stdout).toBe('Login Succeeded\n');
    const auths = (JSON.parse(readFileSync(config, 'utf8')) as { auths: Record<string, { auth: string }> }).auths;
    expect(Buffer.from(auths[basic.host]!.auth, 'base64').toString()).toBe(`${basic.user!}:${basic.password!}`);
    // The docker CLI reads what berth wrote.
    expect((await docker('pull', `${basic.host}/private/bb:1`)).stdout).toContain(`Status: Downloaded newer image for ${basic.host}/private/bb:1`);
    expect((await berth('pull', `${basic.host}/private/bb:1`)).stdout).toContain('Image is up to date');
    expect((await berth('logout', basic.host)).stdout).toBe(`Removing login credentials for ${basic.host}\n`);
    await expect(berth('pull', `${basic.host}/private/bb:2`)).rejects.toMatchObject({ stderr: expect.stringContaining('no basic auth credentials') });
    writeFileSync(config, JSON.stringify({ auths: {}, credsStore: 'desktop' }));
    await expect(berth('pull', `${basic.host}/private/bb:1`)).rejects.toMatchObject({ stderr: expect.stringContaining('berth does not run credential helpers') });
    rmSync(config);
  });

  it('docker load of a body that is not an archive answers in-stream, as dockerd, and stores nothing', async () => {
    const before = readdirSync(join(root, 'layers')).sort();
    const images = (await docker('images', '-q')).stdout;
    writeFileSync(join(root, 'not-a-tar'), 'hello\n');
    await expect(docker('load', '-i', join(root, 'not-a-tar'))).rejects.toMatchObject({ stderr: expect.stringContaining('not a tar') });
    // A root filesystem tar is not an image archive either.
    await run('tar', ['-cf', join(root, 'rootfs.tar'), '-C', REPO, 'package.json']);
    await expect(docker('load', '-i', join(root, 'rootfs.tar'))).rejects.toMatchObject({ stderr: expect.stringContaining('neither manifest.json nor oci-layout') });
    expect(readdirSync(join(root, 'layers')).sort()).toEqual(before);
    expect((await docker('images', '-q')).stdout).toBe(images);
    // docker import takes it: one layer, tagged.
    const imported = await docker('import', join(root, 'rootfs.tar'), 'imported:v1');
    expect(imported.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    expect((await docker('images', 'imported')).stdout).toContain('v1');
  });

  it('history, distribution inspect and image prune', async () => {
    await docker('pull', `${open.host}/bb:1`);
    const history = JSON.parse((await fetchOnSocket('GET', `/images/${open.host}/bb:1/history`)).body) as { Id: string; CreatedBy: string; Tags: string[]; Size: number }[];
    const [img] = JSON.parse((await docker('image', 'inspect', `${open.host}/bb:1`)).stdout) as { Id: string; Size: number }[];
    expect(history[0]).toMatchObject({ Id: img!.Id, Tags: expect.arrayContaining([`${open.host}/bb:1`]) });
    expect(history.reduce((n, h) => n + h.Size, 0)).toBe(img!.Size);
    expect((await docker('history', '-q', `${open.host}/bb:1`)).stdout.split('\n')[0]).toBe(img!.Id.slice(7, 19));

    const dist = await fetchOnSocket('GET', `/distribution/${open.host}/bb:1/json`);
    expect(dist.status).toBe(200);
    const info = JSON.parse(dist.body) as { Descriptor: { digest: string; mediaType: string }; Platforms: { os: string }[] };
    const digests = (JSON.parse((await docker('image', 'inspect', `${open.host}/bb:1`)).stdout) as { RepoDigests: string[] }[])[0]!.RepoDigests;
    expect(digests).toContain(`${open.host}/bb@${info.Descriptor.digest}`);
    expect(info.Platforms[0]?.os).toBe('linux');

    // An untagged image goes with a plain prune; a tagged one only with --all, and never while a container uses it.
    await docker('tag', `${open.host}/bb:1`, 'keep:1');
    await docker('create', '--name', 'user', 'keep:1', 'true');
    const dangling = (await docker('import', join(root, 'rootfs.tar'))).stdout.trim();
    expect(dangling).toMatch(/^sha256:[a-f0-9]{64}$/);
    const pruned = await docker('image', 'prune', '-f');
    expect(pruned.stdout).toContain(`deleted: ${dangling}`);
    expect(pruned.stdout).not.toContain('untagged');
    const all = await docker('image', 'prune', '-a', '-f');
    expect(all.stdout).toContain('untagged: imported:v1');
    expect((await docker('images', '--format', '{{.Repository}}:{{.Tag}}')).stdout.split('\n')).toEqual(expect.arrayContaining(['keep:1']));
    await docker('rm', 'user');
  });

  it('docker push: blobs the registry lacks, a cross-repository mount, then the manifest; the pull gets the same image back', async () => {
    await docker('pull', `${open.host}/bb:1`);
    await docker('tag', `${open.host}/bb:1`, `${basic.host}/pushed/bb:2`);
    await expect(docker('push', `${basic.host}/pushed/bb:2`)).rejects.toMatchObject({ stderr: expect.stringContaining('no basic auth credentials') });
    await docker('login', basic.host, '-u', basic.user!, '-p', basic.password!);
    const pushed = await docker('push', `${basic.host}/pushed/bb:2`);
    expect(pushed.stdout).toContain(`The push refers to repository [${basic.host}/pushed/bb]`);
    expect(pushed.stdout).toMatch(/: Pushed\n|: Layer already exists\n|: Mounted from /);
    const digest = /2: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(pushed.stdout)?.[1];
    expect(digest).toBeDefined();
    // Byte for byte the blobs it was pulled as: the manifest pushed names the same layer digests.
    const again = await docker('push', `${basic.host}/pushed/bb:2`);
    expect(again.stdout).toContain('Layer already exists');
    await docker('tag', `${open.host}/bb:1`, `${open.host}/copy/bb:1`);
    const mounted = await docker('push', `${open.host}/copy/bb:1`);
    expect(mounted.stdout).toContain('Mounted from bb');
    // A fresh pull of what was pushed is the same image.
    const [before] = JSON.parse((await docker('image', 'inspect', `${open.host}/bb:1`)).stdout) as { Id: string }[];
    await docker('rmi', `${basic.host}/pushed/bb:2`);
    await docker('pull', `${basic.host}/pushed/bb:2`);
    const [after] = JSON.parse((await docker('image', 'inspect', `${basic.host}/pushed/bb:2`)).stdout) as { Id: string; RepoDigests: string[] }[];
    expect(after!.Id).toBe(before!.Id);
    expect(after!.RepoDigests).toContain(`${basic.host}/pushed/bb@${digest!}`);
    await docker('logout', basic.host);
    // An imported rootfs is pushed as the tar it was imported from (rebuilt from its tar-split record): digest = diffID.
    await docker('import', join(root, 'rootfs.tar'), `${open.host}/imported:1`);
    await docker('push', `${open.host}/imported:1`);
    const [imported] = JSON.parse((await docker('image', 'inspect', `${open.host}/imported:1`)).stdout) as { RootFS: { Layers: string[] } }[];
    const pushedImport = JSON.parse((await skopeoRawManifest(open, 'imported:1')).toString()) as { layers: { digest: string }[] };
    expect(pushedImport.layers.map((l) => l.digest)).toEqual(imported!.RootFS.Layers);
  });

  it('docker save of a pulled image loads back as the same image (every layer tar checked against its diffID)', async () => {
    await docker('pull', `${open.host}/bb:1`);
    const [img] = JSON.parse((await docker('image', 'inspect', `${open.host}/bb:1`)).stdout) as { Id: string }[];
    await docker('save', '-o', join(root, 'saved.tar'), `${open.host}/bb:1`);
    const listing = (await run('tar', ['-tf', join(root, 'saved.tar')])).stdout.split('\n');
    expect(listing).toEqual(expect.arrayContaining(['manifest.json', 'repositories', `${img!.Id.slice(7)}.json`]));
    // Loaded into a second store through the same API: the layer tar matches its diffID, so the ids agree.
    await docker('tag', `${open.host}/bb:1`, 'saved-copy:1');
    await docker('rmi', `${open.host}/bb:1`);
    const loaded = await docker('load', '-i', join(root, 'saved.tar'));
    expect(loaded.stdout).toContain(`Loaded image: ${open.host}/bb:1`);
    expect((JSON.parse((await docker('image', 'inspect', `${open.host}/bb:1`)).stdout) as { Id: string }[])[0]!.Id).toBe(img!.Id);
    await docker('rmi', 'saved-copy:1');
    // An imported image: its layer.tar is the rootfs tar it was imported from.
    await docker('import', join(root, 'rootfs.tar'), 'imported-save:1');
    await docker('save', '-o', join(root, 'x.tar'), 'imported-save:1');
    const [imp] = JSON.parse((await docker('image', 'inspect', 'imported-save:1')).stdout) as { RootFS: { Layers: string[] } }[];
    const xdir = mkdtempSync(join(root, 'x-'));
    await run('tar', ['-xf', join(root, 'x.tar'), '-C', xdir]);
    expect(readFileSync(join(xdir, imp!.RootFS.Layers[0]!.slice(7), 'layer.tar')).equals(readFileSync(join(root, 'rootfs.tar')))).toBe(true);
  });

  it('docker load, then docker save gives back the same layer tars, and docker push sends them with digest = diffID (skopeo inspect)', async () => {
    const archive = await busyboxImageArchive('loaded/bb:1');
    writeFileSync(join(root, 'to-load.tar'), archive);
    await docker('load', '-i', join(root, 'to-load.tar'));
    const [img] = JSON.parse((await docker('image', 'inspect', 'loaded/bb:1')).stdout) as { Id: string; RootFS: { Layers: string[] } }[];
    const diffId = img!.RootFS.Layers[0]!;
    await docker('save', '-o', join(root, 'resaved.tar'), 'loaded/bb:1');
    const layerOf = async (tarFile: string): Promise<Buffer> => {
      const dir = mkdtempSync(join(root, 'x-'));
      await run('tar', ['-xf', tarFile, '-C', dir]);
      return readFileSync(join(dir, diffId.slice(7), 'layer.tar'));
    };
    expect((await layerOf(join(root, 'resaved.tar'))).equals(await layerOf(join(root, 'to-load.tar')))).toBe(true);
    await docker('tag', 'loaded/bb:1', `${open.host}/loaded/bb:1`);
    await docker('push', `${open.host}/loaded/bb:1`);
    const manifest = JSON.parse((await skopeoRawManifest(open, 'loaded/bb:1')).toString()) as { config: { digest: string }; layers: { digest: string }[] };
    expect(manifest.layers.map((l) => l.digest)).toEqual([diffId]);
    expect(manifest.config.digest).toBe(img!.Id);
    // Pulled back into a fresh name, it is the same image.
    await docker('rmi', `${open.host}/loaded/bb:1`, 'loaded/bb:1');
    await docker('pull', `${open.host}/loaded/bb:1`);
    expect((JSON.parse((await docker('image', 'inspect', `${open.host}/loaded/bb:1`)).stdout) as { Id: string }[])[0]!.Id).toBe(img!.Id);
  });

  async function fetchOnSocket(method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
    const { request } = await import('node:http');
    return new Promise((resolve, reject) => {
      const req = request({ socketPath, method, path, headers: { 'Content-Type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
});
