/**
 * Exec, attach and API details exactly as dockerd 20.10 does them (checked
 * against the reference daemon), driven the way clients drive them: the
 * docker CLI and the berth CLI (under script(1) for a terminal), dockerode,
 * the python docker SDK and raw HTTP on the socket.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deframe } from '../../src/framing.js';
import { securityOptions } from '../../src/security-options.js';
import { busyboxImageArchive } from '../helpers/busybox-image.js';
import { describeRoot, hostMountTable } from '@berth/testing';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const IMAGE = 'berth-test/busybox';

/** The field names dockerd 20.10 answers `GET /info` and `GET /version` with (jq keys of the reference daemon's answers). */
const DOCKER_INFO_FIELDS = [
  'Architecture', 'BridgeNfIp6tables', 'BridgeNfIptables', 'CPUSet', 'CPUShares', 'CgroupDriver', 'CgroupVersion', 'ContainerdCommit',
  'Containers', 'ContainersPaused', 'ContainersRunning', 'ContainersStopped', 'CpuCfsPeriod', 'CpuCfsQuota', 'Debug', 'DefaultRuntime',
  'DockerRootDir', 'Driver', 'DriverStatus', 'ExperimentalBuild', 'GenericResources', 'HttpProxy', 'HttpsProxy', 'ID', 'IPv4Forwarding',
  'Images', 'IndexServerAddress', 'InitBinary', 'InitCommit', 'Isolation', 'KernelMemory', 'KernelMemoryTCP', 'KernelVersion', 'Labels',
  'LiveRestoreEnabled', 'LoggingDriver', 'MemTotal', 'MemoryLimit', 'NCPU', 'NEventsListener', 'NFd', 'NGoroutines', 'Name', 'NoProxy',
  'OSType', 'OSVersion', 'OomKillDisable', 'OperatingSystem', 'PidsLimit', 'Plugins', 'RegistryConfig', 'RuncCommit', 'Runtimes',
  'SecurityOptions', 'ServerVersion', 'SwapLimit', 'Swarm', 'SystemTime', 'Warnings',
];
const DOCKER_VERSION_FIELDS = ['ApiVersion', 'Arch', 'BuildTime', 'Components', 'GitCommit', 'GoVersion', 'KernelVersion', 'MinAPIVersion', 'Os', 'Platform', 'Version'];
const DOCKER_EXEC_INSPECT_FIELDS = ['CanRemove', 'ContainerID', 'DetachKeys', 'ExitCode', 'ID', 'OpenStderr', 'OpenStdin', 'OpenStdout', 'Pid', 'ProcessConfig', 'Running'];

interface Hijacked {
  socket: Socket;
  /** The status line and headers. */
  head: string;
  /** Everything after the headers so far. */
  body: () => Buffer;
  ended: Promise<void>;
}

describeRoot('Docker-exact exec, attach, logs, /info, /version and volume prune', () => {
  let root: string;
  let socketPath: string;
  let daemon: ChildProcess;
  let mountsBefore: string;
  let d: Docker;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${socketPath}`, DOCKER_CONFIG: join(root, 'docker-config') });
  const docker = (...args: string[]): Promise<{ stdout: string; stderr: string }> => run('docker', args, { env: env() });
  /** A command's outcome; never rejects. */
  const outcome = (cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    run(cmd, args, { env: env() }).then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));
  const berth = [process.execPath, join(REPO, 'packages/cli/bin/berth.js')];

  /** The berth CLI's arguments for this daemon. */
  const berthArgs = (): string[] => [...berth, '--root', root, '--host', `unix://${socketPath}`];

  /**
   * A command on a terminal (script(1)), typing `steps` in turn: each once
   * its `after` text has appeared in the output. Resolves with the exit code
   * and the output.
   */
  function inTerminal(command: string, steps: { after: string; send: string }[]): Promise<{ code: number | null; stdout: string }> {
    return new Promise((resolve) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], { env: env() });
      let stdout = '';
      let next = 0;
      let seenUpTo = 0;
      const advance = (): void => {
        for (let step = steps[next]; step; step = steps[next]) {
          const at = stdout.indexOf(step.after, seenUpTo);
          if (at < 0) return;
          seenUpTo = at + step.after.length;
          next++;
          child.stdin.write(step.send);
        }
      };
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString('latin1');
        advance();
      });
      // Steps after '' are typed at once: the terminal keeps them until the command reads.
      setTimeout(advance, 500);
      child.stdin.on('error', () => undefined);
      // A session that never ends fails its test by its output, not by the test's timeout.
      const limit = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', () => { clearTimeout(limit); child.stdin.end(); });
      child.on('close', (code) => resolve({ code, stdout }));
    });
  }

  /** `POST path` with `Upgrade: tcp`, as the docker CLI hijacks attach and exec start. */
  function hijack(path: string, body?: unknown): Promise<Hijacked> {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      const payload = body === undefined ? '' : JSON.stringify(body);
      socket.write(`POST ${path} HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
      let buf = Buffer.alloc(0);
      let head: string | undefined;
      const ended = new Promise<void>((r) => socket.on('close', () => r()));
      socket.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (head !== undefined) return;
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        resolve({ socket, head, body: () => buf, ended });
      });
      socket.on('error', reject);
    });
  }

  async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (await check()) return;
      await sleep(50);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  /** Settles with 'ended' once the promise settles, or 'open' after a while. */
  const endedSoon = (p: Promise<void>): Promise<'ended' | 'open'> => Promise.race([p.then(() => 'ended' as const), sleep(5000).then(() => 'open' as const)]);

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    root = mkdtempSync(join(tmpdir(), 'berth-docker-exact-'));
    socketPath = join(root, 'berth.sock');
    const code = `import { runDaemon } from '@berth/supervisor';\nawait runDaemon({ root: ${JSON.stringify(root)}, socketPath: ${JSON.stringify(socketPath)} });\n`;
    daemon = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'inherit', 'inherit'], cwd: REPO });
    d = new Docker({ socketPath });
    await until('the supervisor', async () => existsSync(socketPath) && (await d.ping().then(() => true, () => false)));
    writeFileSync(join(root, 'busybox.tar'), await busyboxImageArchive());
    await docker('image', 'load', '-i', join(root, 'busybox.tar'));
  });

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      for (const c of await d.listContainers({ all: true })) await d.getContainer(c.Id).remove({ force: true });
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
    }
    rmSync(root, { recursive: true, force: true });
    expect(hostMountTable()).toBe(mountsBefore);
  });

  it("exec start: the start body's Tty decides the framing, the exec's Tty the terminal (dockerode)", async () => {
    const c = await d.createContainer({ Image: IMAGE, Cmd: ['sleep', '1000'] });
    await c.start();
    const script = ['sh', '-c', '[ -t 1 ] && echo tty || echo notty; echo out; echo err >&2'];
    // A terminal exec started with {"Tty": false}: multiplexed frames (the terminal merged stderr into stdout).
    const onTerminal = await c.exec({ Cmd: script, Tty: true, AttachStdout: true, AttachStderr: true });
    const framed = await readAll(await onTerminal.start({ hijack: true, stdin: false, Tty: false }));
    const frames = deframe(framed);
    expect(frames.rest.length).toBe(0);
    expect(frames.frames.every((f) => f.type === 1)).toBe(true);
    expect(frames.frames.map((f) => f.payload.toString()).join('')).toBe('tty\r\nout\r\nerr\r\n');
    // A plain exec started with {"Tty": true}: raw bytes, and stderr has no place in them (Docker drops it).
    const plain = await c.exec({ Cmd: script, Tty: false, AttachStdout: true, AttachStderr: true });
    expect((await readAll(await plain.start({ hijack: true, stdin: false, Tty: true }))).toString()).toBe('notty\nout\n');
    await c.remove({ force: true });
  });

  it('exec that cannot start: ExitCode 126 and runc\'s message on the stream, as dockerd 20.10 (docker CLI, dockerode)', async () => {
    await docker('run', '-d', '--name', 'exec126', IMAGE, 'sleep', '1000');
    const missing = await outcome('docker', ['exec', 'exec126', 'no-such-command']);
    expect(missing.code).toBe(126);
    expect(missing.stdout).toContain('OCI runtime exec failed: exec failed: unable to start container process: exec: "no-such-command": executable file not found in $PATH: unknown');
    const notExecutable = await outcome('docker', ['exec', 'exec126', '/bin']);
    expect(notExecutable.code).toBe(126);
    expect(notExecutable.stdout).toContain('OCI runtime exec failed: exec failed: unable to start container process: exec: "/bin": permission denied: unknown');
    const exec = await d.getContainer('exec126').exec({ Cmd: ['no-such-command'], AttachStdout: true, AttachStderr: true });
    const out = deframe(await readAll(await exec.start({ hijack: true, stdin: false })));
    expect(out.frames.filter((f) => f.type === 1).map((f) => f.payload.toString()).join('')).toMatch(/executable file not found in \$PATH: unknown\r\n$/);
    expect((await exec.inspect()).ExitCode).toBe(126);
    await docker('rm', '-f', 'exec126');
  });

  it('exec inspect has Docker\'s fields: DetachKeys as Go encodes the key bytes, the Pid after the exit, no empty user', async () => {
    const c = await d.createContainer({ Image: IMAGE, Cmd: ['sleep', '1000'] });
    await c.start();
    const exec = await c.exec({ Cmd: ['true'], AttachStdout: true, DetachKeys: 'ctrl-a,x' });
    const before = await exec.inspect() as unknown as Record<string, unknown>;
    expect(Object.keys(before).sort()).toEqual(DOCKER_EXEC_INSPECT_FIELDS);
    expect(before).toMatchObject({ Running: false, ExitCode: null, Pid: 0, DetachKeys: 'AXg=', CanRemove: false, OpenStdin: false, OpenStdout: true, OpenStderr: false });
    await readAll(await exec.start({ hijack: true, stdin: false }));
    const after = await exec.inspect() as unknown as Record<string, unknown>;
    expect(after).toMatchObject({ Running: false, ExitCode: 0, ProcessConfig: { tty: false, entrypoint: 'true', arguments: [], privileged: false } });
    expect(after['Pid']).toBeGreaterThan(0);
    expect(Object.keys(after['ProcessConfig'] as object)).not.toContain('user');
    expect((await c.exec({ Cmd: ['true'] }).then((e) => e.inspect())).DetachKeys).toBe('');
    await expect(c.exec({ Cmd: ['true'], DetachKeys: 'ctrl-foo' })).rejects.toMatchObject({ statusCode: 400, json: { message: 'Invalid escape keys (ctrl-foo) provided' } });
    await c.remove({ force: true });
  });

  it('detach keys on a hijacked terminal session end the stream and leave the container or exec running (raw HTTP)', async () => {
    const c = await d.createContainer({ Image: IMAGE, Cmd: ['sh'], Tty: true, OpenStdin: true });
    await c.start();
    // attach's detachKeys=: the keys end the stream, the shell runs on and still reads later input.
    const custom = await hijack(`/containers/${c.id}/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-x`);
    expect(custom.head).toMatch(/^HTTP\/1.1 101/);
    custom.socket.write('echo first\n');
    await until('the shell to answer', () => custom.body().toString().includes('first\r\n'));
    custom.socket.write('a\x18');
    expect(await endedSoon(custom.ended)).toBe('ended');
    expect((await c.inspect()).State.Running).toBe(true);
    // The default, ctrl-p ctrl-q; input before it still reaches the shell.
    const byDefault = await hijack(`/containers/${c.id}/attach?stream=1&stdin=1&stdout=1&stderr=1`);
    byDefault.socket.write('\necho $((6*7))\n'); // the line holds the "a" typed before ctrl-x: it reached the shell
    await until('the shell to answer', () => byDefault.body().toString().includes('42'));
    let closed = false;
    void byDefault.ended.then(() => { closed = true; });
    byDefault.socket.write('\x10');
    await sleep(300);
    expect(closed).toBe(false); // half the sequence: held back, the session goes on
    byDefault.socket.write('\x11');
    expect(await endedSoon(byDefault.ended)).toBe('ended');
    expect((await c.inspect()).State.Running).toBe(true);
    await expect(rawStatus('POST', `/containers/${c.id}/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-foo`))
      .resolves.toEqual({ status: 400, body: { message: 'Invalid detach keys (ctrl-foo) provided' } });
    // exec create's DetachKeys: the exec's stream ends and the exec runs on.
    const exec = await c.exec({ Cmd: ['sh'], Tty: true, AttachStdin: true, AttachStdout: true, DetachKeys: 'ctrl-a,x' });
    const session = await hijack(`/exec/${exec.id}/start`, { Detach: false, Tty: true });
    session.socket.write('echo in-exec\n');
    await until('the exec shell to answer', () => session.body().toString().includes('in-exec\r\n'));
    session.socket.write('\x01x');
    expect(await endedSoon(session.ended)).toBe('ended');
    expect((await exec.inspect()).Running).toBe(true);
    await c.remove({ force: true });
  });

  it('docker CLI: detaching from run -it leaves the terminal\'s input open for the next docker attach', async () => {
    const first = await inTerminal(`docker run -it --name detach-cli ${IMAGE} sh`, [{ after: '/ # ', send: '\x10\x11' }]);
    expect(first.code).toBe(0);
    expect((await d.getContainer('detach-cli').inspect()).State.Running).toBe(true);
    const again = await inTerminal('docker attach detach-cli', [
      { after: '', send: 'echo again-$((6*7))\r' },
      { after: 'again-42', send: '\x10\x11' },
    ]);
    expect(again.stdout).toContain('again-42');
    expect(again.stdout).toContain('read escape sequence');
    expect(again.code).toBe(1);
    expect((await d.getContainer('detach-cli').inspect()).State.Running).toBe(true);
    await docker('rm', '-f', 'detach-cli');
  });

  it('berth run/attach/exec --detach-keys: run exits 0, attach and exec say "read escape sequence" and exit 1, all keep running', async () => {
    const cli = berthArgs().join(' ');
    const ran = await inTerminal(`${cli} run -it --name detach-berth --detach-keys ctrl-a,x ${IMAGE} sh`, [{ after: '/ # ', send: '\x01x' }]);
    expect(ran.code).toBe(0);
    const c = d.getContainer('detach-berth');
    expect((await c.inspect()).State.Running).toBe(true);
    const attached = await inTerminal(`${cli} attach detach-berth`, [
      { after: '', send: 'echo attached-$((6*7))\r' },
      { after: 'attached-42', send: '\x10\x11' },
    ]);
    expect(attached.stdout).toContain('read escape sequence');
    expect(attached.code).toBe(1);
    const execd = await inTerminal(`${cli} exec -it --detach-keys ctrl-x detach-berth sh`, [{ after: '/ # ', send: 'sleep 1000\r\x18' }]);
    expect(execd.stdout).toContain('read escape sequence');
    expect(execd.code).toBe(1);
    // The shell reads the line and forks sleep on its own time, after the CLI has gone.
    await until('sleep 1000 to run on after the detach', async () =>
      ((await c.top()) as { Processes: string[][] }).Processes.some((p) => p.join(' ').includes('sleep 1000')));
    expect((await c.inspect()).State.Running).toBe(true);
    const bad = await outcome(berth[0]!, [...berthArgs().slice(1), 'attach', '--detach-keys', 'ctrl-foo', 'detach-berth']);
    expect(bad).toMatchObject({ code: 125, stderr: 'berth: Invalid detach keys (ctrl-foo) provided\n' });
    await c.remove({ force: true });
  });

  it('attach?logs=1&stream=0 returns what was written and ends; the stream type follows the API version (raw HTTP, dockerode)', async () => {
    const c = await d.createContainer({ Image: IMAGE, Cmd: ['sh', '-c', 'echo one; echo two >&2; sleep 1000'] });
    await c.start();
    await until('the output', async () => ((await c.logs({ stdout: true, stderr: true })) as unknown as Buffer).length >= 2 * 12);
    const viaDockerode = await c.attach({ logs: true, stream: false, stdout: true, stderr: true });
    const frames = deframe(await readAll(viaDockerode as unknown as NodeJS.ReadableStream)).frames.map((f) => [f.type, f.payload.toString()]);
    expect(frames.sort()).toEqual([[1, 'one\n'], [2, 'two\n']]);
    const old = await hijack(`/v1.41/containers/${c.id}/attach?logs=1&stream=0&stdout=1&stderr=1`);
    expect(await endedSoon(old.ended)).toBe('ended');
    expect(deframe(old.body()).frames).toHaveLength(2);
    // Before API 1.42 Docker labels every stream raw-stream; from 1.42 multiplexed ones say so.
    expect(old.head).toContain('Content-Type: application/vnd.docker.raw-stream');
    const current = await hijack(`/v1.42/containers/${c.id}/attach?logs=1&stream=0&stdout=1&stderr=1`);
    expect(current.head).toContain('Content-Type: application/vnd.docker.multiplexed-stream');
    await current.ended;
    await c.remove({ force: true });
  });

  it('--log-opt max-file alone is accepted, --log-driver none keeps no log, other drivers and bad options get moby\'s messages (docker CLI)', async () => {
    const id = (await docker('run', '-d', '--log-opt', 'max-file=3', IMAGE, 'echo', 'kept')).stdout.trim();
    await docker('wait', id);
    expect((await docker('logs', id)).stdout).toBe('kept\n');
    const none = (await docker('run', '-d', '--log-driver', 'none', IMAGE, 'echo', 'dropped')).stdout.trim();
    expect((await docker('wait', none)).stdout.trim()).toBe('0');
    expect(readdirSync(join(root, 'supervisor', none)).filter((f) => f.includes('json.log'))).toEqual([]);
    expect(await outcome('docker', ['logs', none])).toMatchObject({ code: 1, stderr: 'Error response from daemon: configured logging driver does not support reading\n' });
    const refused: [string[], string][] = [
      [['--log-driver', 'syslog'], 'error looking up logging plugin syslog: plugin "syslog" not found'],
      [['--log-opt', 'max-sise=1m'], "unknown log opt 'max-sise' for json-file log driver"],
      [['--log-opt', 'max-size=lots'], "failed to initialize logging driver: invalid size: 'lots'"],
      [['--log-opt', 'max-size=1k', '--log-opt', 'max-file=0'], 'failed to initialize logging driver: max-file cannot be less than 1'],
    ];
    for (const [flags, message] of refused) {
      const r = await outcome('docker', ['create', ...flags, IMAGE]);
      expect(r.code, flags.join(' ')).not.toBe(0);
      expect(r.stderr, flags.join(' ')).toContain(`Error response from daemon: ${message}`);
    }
    await docker('rm', id, none);
  });

  it("/info and /version answer every field dockerd 20.10 does, with berth's values (raw HTTP, docker CLI, python SDK)", async () => {
    const info = await rawJson('/v1.41/info');
    expect(Object.keys(info).sort()).toEqual([...DOCKER_INFO_FIELDS].sort());
    expect(info).toMatchObject({
      Debug: false, ExperimentalBuild: false, SecurityOptions: securityOptions(), DefaultRuntime: 'berth', Isolation: '', InitBinary: '',
      CgroupDriver: 'cgroupfs', Swarm: { LocalNodeState: 'inactive', NodeID: '', RemoteManagers: null },
      Plugins: { Volume: ['local'], Authorization: null, Log: ['json-file'] }, LoggingDriver: 'json-file', OSType: 'linux',
      RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: [], Mirrors: [] },
    });
    expect(Object.keys(info['Runtimes'] as object)).toContain(info['DefaultRuntime']);
    expect(info['OperatingSystem']).not.toBe('linux'); // os-release's PRETTY_NAME, as Docker reads it
    const version = await rawJson('/v1.41/version');
    expect(Object.keys(version).sort()).toEqual(DOCKER_VERSION_FIELDS);
    expect((version['Components'] as { Details: Record<string, unknown> }[])[0]!.Details).toMatchObject({ Experimental: 'false', ApiVersion: version['ApiVersion'] });
    // The docker CLI's own view, and the python SDK's indexing.
    expect((await docker('info', '--format', '{{.Debug}} {{.Swarm.LocalNodeState}} {{.DefaultRuntime}}')).stdout.trim()).toBe('false inactive berth');
    const py = await run('python3', ['-c', [
      'import docker, sys',
      `c = docker.DockerClient(base_url="unix://${socketPath}", version="1.41")`,
      'i = c.info()',
      'print(i["Debug"], i["ExperimentalBuild"], i["Swarm"]["LocalNodeState"], i["Plugins"]["Log"], c.version()["Components"][0]["Details"]["Experimental"])',
    ].join('\n')]);
    expect(py.stdout.trim()).toBe("False False inactive ['json-file'] false");
  });

  it('volume prune below API 1.42 removes named volumes too and knows no all filter; from 1.42 only anonymous ones (python SDK, raw HTTP)', async () => {
    const prune = (version: string): Promise<{ stdout: string }> => run('python3', ['-c', [
      'import docker',
      `c = docker.DockerClient(base_url="unix://${socketPath}", version="${version}")`,
      'print(sorted(c.volumes.prune()["VolumesDeleted"] or []))',
    ].join('\n')]);
    await docker('volume', 'create', 'named-a');
    const anon = 'a'.repeat(64);
    await d.createVolume({ Name: anon, Labels: { 'com.docker.volume.anonymous': '' } });
    // 1.42 and later: the named one stays.
    expect((await prune('1.42')).stdout.trim()).toBe(`['${anon}']`);
    expect((await d.listVolumes()).Volumes?.map((v) => v.Name)).toContain('named-a');
    // 1.41 (docker-compose 1.29, older SDKs): every unused volume goes.
    expect((await prune('1.41')).stdout.trim()).toBe("['named-a']");
    expect(await rawStatus('POST', `/v1.41/volumes/prune?filters=${encodeURIComponent(JSON.stringify({ all: ['true'] }))}`))
      .toMatchObject({ status: 400, body: { message: expect.stringMatching(/^invalid filter 'all'$/i) } });
    // Unversioned means the current version.
    await docker('volume', 'create', 'named-b');
    expect((await rawStatus('POST', '/volumes/prune')).body).toMatchObject({ VolumesDeleted: [] });
    await docker('volume', 'rm', 'named-b');
  });

  /** A request on the socket: status and JSON body. */
  function rawStatus(method: string, path: string): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      socket.write(`${method} ${path} HTTP/1.1\r\nHost: berth\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      let buf = '';
      socket.on('data', (c: Buffer) => (buf += c.toString()));
      socket.on('error', reject);
      socket.on('close', () => {
        const [head = '', ...rest] = buf.split('\r\n\r\n');
        let text = rest.join('\r\n\r\n');
        if (/transfer-encoding: chunked/i.test(head)) text = text.split('\r\n').filter((_, i) => i % 2 === 1).join('');
        resolve({ status: Number(head.split(' ')[1]), body: text.trim() === '' ? undefined : JSON.parse(text) });
      });
    });
  }

  async function rawJson(path: string): Promise<Record<string, unknown>> {
    const r = await rawStatus('GET', path);
    expect(r.status).toBe(200);
    return r.body as Record<string, unknown>;
  }
});

/** Everything a stream carries until it ends. */
function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('close', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
