/**
 * End to end through the real socket, with the real Runtime: the docker CLI
 * (DOCKER_HOST=unix://…) and dockerode against a supervisor running as a
 * child process, and restart reconciliation after SIGKILLing it.
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
import { deframe } from '../../src/framing.js';
import { busyboxImageArchive } from '../helpers/busybox-image.js';
import { berthCgroups, describeRoot, hostMountTable, waitContainer } from '@berth/testing';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

describeRoot('supervisor end to end (docker CLI, dockerode, restart)', () => {
  let root: string;
  let socketPath: string;
  let daemon: ChildProcess;
  let mountsBefore: string;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${socketPath}`, DOCKER_CONFIG: join(root, 'docker-config') });
  const docker = (...args: string[]): Promise<{ stdout: string; stderr: string }> => run('docker', args, { env: env() });
  /** node's arguments for the berth CLI against this test's daemon. */
  const berthArgs = (): string[] => [join(REPO, 'packages/cli/bin/berth.js'), '--root', root, '--host', `unix://${socketPath}`];

  async function startDaemon(): Promise<void> {
    const code = `import { runDaemon } from '@berth/supervisor';\nawait runDaemon({ root: ${JSON.stringify(root)}, socketPath: ${JSON.stringify(socketPath)} });\n`;
    // -e resolves '@berth/supervisor' from cwd: the repository root.
    daemon = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'inherit', 'inherit'], cwd: REPO });
    for (let i = 0; i < 200; i++) {
      if (existsSync(socketPath)) {
        try { await new Docker({ socketPath }).ping(); return; } catch { /* not yet */ }
      }
      await sleep(50);
    }
    throw new Error('the supervisor did not come up');
  }

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    root = mkdtempSync(join(tmpdir(), 'berth-e2e-'));
    socketPath = join(root, 'berth.sock');
    await startDaemon();
    writeFileSync(join(root, 'busybox.tar'), await busyboxImageArchive());
  });

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
    }
    rmSync(root, { recursive: true, force: true });
    expect(hostMountTable()).toBe(mountsBefore);
  });

  it('image load and images', async () => {
    const { stdout } = await docker('image', 'load', '-i', join(root, 'busybox.tar'));
    expect(stdout).toContain('Loaded image: berth-test/busybox:latest');
    expect((await docker('images')).stdout).toContain('berth-test/busybox');
    // docker tag and berth image tag: POST /images/{name}/tag, then usable by the new name.
    await docker('tag', 'berth-test/busybox', 'mine/box:v1');
    const cli = berthArgs();
    await run(process.execPath, [...cli, 'image', 'tag', 'mine/box:v1', 'other']);
    const tags = JSON.parse((await docker('image', 'inspect', 'berth-test/busybox')).stdout)[0].RepoTags as string[];
    expect(tags.sort()).toEqual(['berth-test/busybox:latest', 'mine/box:v1', 'other:latest']);
    expect((await docker('run', '--rm', 'other', 'echo', 'tagged')).stdout).toBe('tagged\n');
    await expect(docker('tag', 'nope', 'x')).rejects.toMatchObject({ stderr: expect.stringContaining('No such image: nope') });
    await docker('rmi', 'mine/box:v1', 'other');
  });

  it('volume create/ls/inspect/rm/prune', async () => {
    await docker('volume', 'create', 'v1');
    expect((await docker('volume', 'ls', '-q')).stdout.split('\n')).toContain('v1');
    expect(JSON.parse((await docker('volume', 'inspect', 'v1')).stdout)[0]).toMatchObject({ Name: 'v1', Driver: 'local' });
    await docker('volume', 'rm', 'v1');
    await docker('volume', 'create', 'v2');
    const pruned = await docker('volume', 'prune', '-a', '-f');
    expect(pruned.stdout).toContain('v2');
  });

  it('run --rm -v vol:/d: attached output, exit code, and the container is gone', async () => {
    const r = await docker('run', '--rm', '-v', 'data:/d', 'berth-test/busybox', 'sh', '-c', 'echo hi > /d/f; cat /d/f; echo err >&2').catch((e: { stdout: string; stderr: string }) => e);
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toBe('err\n');
    const failed = await docker('run', '--rm', 'berth-test/busybox', 'sh', '-c', 'exit 3').catch((e: { code: number }) => e);
    expect((failed as { code: number }).code).toBe(3);
    expect((await docker('ps', '-a', '-q')).stdout.trim()).toBe('');
  });

  it('run -d, logs, ps -a, rm -v', async () => {
    const id = (await docker('run', '-d', '--name', 'bg', '-v', '/anon', 'berth-test/busybox', 'sh', '-c', 'echo one; echo two')).stdout.trim();
    await docker('wait', id);
    expect((await docker('logs', 'bg')).stdout).toBe('one\ntwo\n');
    expect((await docker('ps', '-a')).stdout).toMatch(/bg/);
    const anon = (await new Docker({ socketPath }).getContainer(id).inspect()).Mounts.find((m) => m.Destination === '/anon')?.Name;
    await docker('rm', '-v', 'bg');
    if (anon) await expect(docker('volume', 'inspect', anon)).rejects.toThrow();
  });

  /** A command with `input` on its stdin; never rejects: the exit code is part of the result. */
  /**
   * `input: null` keeps stdin open until the command exits: under script(1) an
   * end of input becomes a NUL typed into the terminal, echoed as "^@"
   * somewhere in the output.
   */
  function withInput(cmd: string, args: string[], input: string | Buffer | null): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(cmd, args, { env: env() });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdin.on('error', () => undefined);
      if (input === null) child.on('exit', () => child.stdin.end());
      else child.stdin.end(input);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('run -i: stdin reaches the container, its end is EOF there, and more than a pipe holds gets through', async () => {
    const small = await withInput('docker', ['run', '-i', '--rm', '-v', 'data:/d', 'berth-test/busybox', 'sh', '-c', 'read a; echo "got:$a"; cat > /d/rest; exit 6'], 'first\nsecond\n');
    expect(small).toMatchObject({ code: 6, stdout: 'got:first\n' });
    const big = 'z'.repeat(1_000_000) + '\n';
    const counted = await withInput('docker', ['run', '-i', '--rm', 'berth-test/busybox', 'wc', '-c'], big);
    expect(counted).toMatchObject({ code: 0, stdout: `${big.length}\n` });
    // Without -i the container reads /dev/null, as under Docker: cat ends at once.
    expect(await withInput('docker', ['run', '--rm', 'berth-test/busybox', 'cat'], 'ignored\n')).toMatchObject({ code: 0, stdout: '' });
    // The berth CLI, the same way.
    const cli = berthArgs();
    const viaBerth = await withInput(process.execPath, [...cli, 'run', '-i', '--rm', 'berth-test/busybox', 'tr', 'a-z', 'A-Z'], 'shout\n');
    expect(viaBerth).toMatchObject({ code: 0, stdout: 'SHOUT\n' });
    expect((await docker('ps', '-a', '-q')).stdout.trim()).toBe('');
  });

  it('run -it through the docker CLI and the berth CLI: a shell on a terminal of the container, sized like the caller\'s', async () => {
    // `script` gives the CLIs a terminal of 30x90, as a user's would be.
    const inTerminal = (command: string): Promise<{ code: number | null; stdout: string }> =>
      withInput('script', ['-qec', `stty rows 30 cols 90; ${command}`, '/dev/null'], null);
    const cli = [process.execPath, ...berthArgs()].join(' ');
    for (const client of ['docker', cli]) {
      const sized = await inTerminal(`${client} run -t --rm berth-test/busybox sh -c 'tty; stty size; exit 3'`);
      expect(sized.code, client).toBe(3);
      expect(sized.stdout, client).toMatch(/\/dev\/pts\/0\r+\n30 90\r+\n/);
    }
    // Typed input reaches the shell through the terminal; its exit code comes back.
    const shell = new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn('script', ['-qec', 'stty rows 30 cols 90; docker run -it --rm berth-test/busybox sh', '/dev/null'], { env: env() });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes('/ # ') && !stdout.includes('typed')) child.stdin.write('echo typed-$((6*7)); exit 5\n');
      });
      child.on('close', (code) => resolve({ code, stdout }));
    });
    const r = await shell;
    expect(r.stdout).toContain('typed-42');
    expect(r.code).toBe(5);
  });

  it('dockerode: resize reaches the terminal of a running Tty container; bad sizes are 400, a stopped container 409', async () => {
    const d = new Docker({ socketPath });
    const c = await d.createContainer({ Image: 'berth-test/busybox', Cmd: ['sh', '-c', 'while [ "$(stty size 2>/dev/null)" != "40 100" ]; do sleep 0.05; done; stty size'], Tty: true });
    await expect(c.resize({ h: 40, w: 100 })).rejects.toMatchObject({ statusCode: 409 });
    const waited = await waitContainer(socketPath, c.id, 'next-exit');
    await c.start();
    await expect(c.resize({ h: -1, w: 100 })).rejects.toMatchObject({ statusCode: 400 });
    await c.resize({ h: 40, w: 100 });
    expect((await waited.exited).StatusCode).toBe(0);
    // A Tty container's log is its terminal's output, raw (no stream framing), as Docker's.
    const logs = (await c.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    expect(logs.toString()).toBe('40 100\r\n');
    await c.remove();
  });

  it('dockerode: a hijacked attach with stdin feeds an OpenStdin container until the client half-closes', async () => {
    const d = new Docker({ socketPath });
    const c = await d.createContainer({
      Image: 'berth-test/busybox', Cmd: ['sh', '-c', 'while read l; do echo "echo:$l"; done; echo bye'],
      OpenStdin: true, StdinOnce: true, AttachStdin: true,
    });
    const stream = (await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as NodeJS.ReadWriteStream;
    const chunks: Buffer[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b));
    const ended = new Promise((r) => stream.on('end', r));
    const waited = await waitContainer(socketPath, c.id, 'next-exit');
    await c.start();
    stream.write('one\n');
    await until('the first line back', () => deframe(Buffer.concat(chunks)).frames.map((f) => f.payload.toString()).join('') === 'echo:one\n');
    expect((await c.inspect()).State.Running).toBe(true); // still waiting for input
    stream.end('two\n');
    expect((await waited.exited).StatusCode).toBe(0);
    await ended;
    expect(deframe(Buffer.concat(chunks)).frames.map((f) => f.payload.toString()).join('')).toBe('echo:one\necho:two\nbye\n');
    await c.remove();
  });

  it('--restart on-failure:2 and docker restart, through the docker CLI', async () => {
    const id = (await docker('run', '-d', '--restart', 'on-failure:2', '-v', 'data:/d', 'berth-test/busybox', 'sh', '-c', 'echo run >> /d/runs; echo run; exit 3')).stdout.trim();
    const inspect = async (): Promise<{ RestartCount: number; State: { Status: string; ExitCode: number } }> =>
      JSON.parse((await docker('inspect', id)).stdout)[0];
    await until('two restarts', async () => { const i = await inspect(); return i.RestartCount === 2 && i.State.Status === 'exited'; });
    expect((await inspect()).State.ExitCode).toBe(3);
    expect((await docker('logs', id)).stdout).toBe('run\nrun\nrun\n');
    // docker restart: a user's start, so the count starts over.
    await docker('restart', id);
    await until('the restart to run', async () => (await docker('logs', id)).stdout.split('\n').length > 4);
    await docker('rm', '-f', id);
    const runs = await docker('run', '--rm', '-v', 'data:/d', 'berth-test/busybox', 'cat', '/d/runs');
    expect(runs.stdout.split('\n').filter((l) => l === 'run').length).toBeGreaterThanOrEqual(4);
  });

  it('--log-opt max-size/max-file rotate the json log; another --log-driver is refused, saying what works', async () => {
    const id = (await docker('run', '-d', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=2', 'berth-test/busybox', 'sh', '-c', 'i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo $i; done')).stdout.trim();
    expect((await docker('wait', id)).stdout.trim()).toBe('0');
    const lines = (await docker('logs', id)).stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('2000');
    expect(Number(lines[0])).toBeGreaterThan(1); // the oldest rotated away
    expect(lines).toEqual(Array.from({ length: lines.length }, (_, i) => String(Number(lines[0]) + i)));
    const files = readdirSync(join(root, 'supervisor', id)).filter((f) => f.includes('-json.log')).sort();
    expect(files).toEqual([`${id}-json.log`, `${id}-json.log.1`]);
    await docker('rm', id);
    const refused = await docker('run', '--rm', '--log-driver', 'syslog', 'berth-test/busybox', 'true').catch((e: { stderr: string }) => e);
    expect(refused.stderr).toContain('error looking up logging plugin syslog: plugin "syslog" not found');
  });

  it('docker exec: in the container\'s namespaces and volumes, with -i, -it, -u, -w, and its exit code; never into a stopped one', async () => {
    await docker('run', '-d', '--name', 'execbox', '-v', 'execdata:/data', '-e', 'FROM_RUN=1', 'berth-test/busybox', 'sh', '-c', 'echo seeded > /data/f; exec sleep 1000');
    try {
      const r = await withInput('docker', ['exec', 'execbox', 'sh', '-c', 'cat /data/f; echo "$FROM_RUN"; echo oops >&2; exit 3'], '');
      expect(r).toMatchObject({ code: 3, stdout: 'seeded\n1\n', stderr: 'oops\n' });
      expect(await withInput('docker', ['exec', '-i', 'execbox', 'sh', '-c', 'cat > /data/g; wc -c < /data/g'], 'x'.repeat(100_000)))
        .toMatchObject({ code: 0, stdout: '100000\n' });
      expect((await docker('exec', '-u', '65534:65534', '-w', '/tmp', 'execbox', 'sh', '-c', 'id -u; pwd')).stdout).toBe('65534\n/tmp\n');
      const tty = await withInput('script', ['-qec', 'stty rows 25 cols 77; docker exec -it execbox sh -c "tty; stty size"', '/dev/null'], null);
      expect(tty.stdout).toMatch(/\/dev\/pts\/\d+\r+\n25 77\r+\n/);
      const missing = await withInput('docker', ['exec', 'execbox', 'no-such-command'], '');
      // dockerd 20.10: 126 for any exec that cannot start, runc's message on stdout.
      expect(missing.code).toBe(126);
      expect(missing.stdout).toContain('executable file not found in $PATH');
      // The berth CLI, the same way.
      const cli = berthArgs();
      expect(await withInput(process.execPath, [...cli, 'exec', 'execbox', 'sh', '-c', 'cat /data/f; exit 4'], '')).toMatchObject({ code: 4, stdout: 'seeded\n' });
      expect(await withInput(process.execPath, [...cli, 'exec', '-i', '-e', 'K=v', 'execbox', 'sh', '-c', 'echo "$K"; wc -c'], 'abc')).toMatchObject({ code: 0, stdout: 'v\n3\n' });
      // dockerode: create, start (hijacked), inspect for the exit code, as the CLI does.
      const c = new Docker({ socketPath }).getContainer('execbox');
      const ex = await c.exec({ Cmd: ['sh', '-c', 'echo via-dockerode; exit 9'], AttachStdout: true, AttachStderr: true });
      const stream = (await ex.start({ hijack: true, stdin: false })) as unknown as NodeJS.ReadableStream;
      const chunks: Buffer[] = [];
      stream.on('data', (b: Buffer) => chunks.push(b));
      await new Promise((r) => stream.on('end', r));
      expect(deframe(Buffer.concat(chunks)).frames.map((f) => f.payload.toString()).join('')).toBe('via-dockerode\n');
      expect(await ex.inspect()).toMatchObject({ ExitCode: 9, Running: false });
      // docker top: the container's processes (the command is PID 1; the shim is outside), as ps -ef shows them on the host.
      const top = (await docker('top', 'execbox')).stdout.trim().split('\n');
      expect(top[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
      expect(top.slice(1)).toEqual([expect.stringMatching(/^0\s+\d+\s+\d+\s+0\s+\S+\s+\?\s+\d\d:\d\d:\d\d\s+sleep 1000$/)]);
      const cliTop = await withInput(process.execPath, [...cli, 'top', 'execbox'], '');
      expect(cliTop.stdout.split('\n').filter((l) => /\d\d:\d\d:\d\d\s+sleep 1000$/.test(l))).toHaveLength(1);
      await docker('stop', '-t', '0', 'execbox');
      await expect(docker('top', 'execbox')).rejects.toMatchObject({ stderr: expect.stringContaining('is not running') });
      const stopped = await withInput('docker', ['exec', 'execbox', 'true'], '');
      expect(stopped.code).not.toBe(0);
      expect(stopped.stderr).toContain('is not running');
    } finally {
      await docker('rm', '-f', 'execbox');
    }
  });

  it('docker rename and docker container prune; the berth CLI the same way', async () => {
    const cli = berthArgs();
    const id = (await docker('create', '--name', 'old-name', '-v', '/anon', 'berth-test/busybox', 'true')).stdout.trim();
    await docker('rename', 'old-name', 'new-name');
    expect((await docker('inspect', '-f', '{{.Name}}', id)).stdout.trim()).toBe('/new-name');
    expect(await withInput(process.execPath, [...cli, 'rename', 'new-name', 'newer-name'], '')).toMatchObject({ code: 0 });
    expect((await docker('inspect', '-f', '{{.Name}}', id)).stdout.trim()).toBe('/newer-name');
    const anon = JSON.parse((await docker('inspect', id)).stdout)[0].Mounts as { Name?: string }[];
    const pruned = await docker('container', 'prune', '-f');
    expect(pruned.stdout).toContain(id);
    await expect(docker('inspect', id)).rejects.toThrow();
    // The container's volumes stay (dangling now), as with Docker.
    for (const m of anon) if (m.Name) await docker('volume', 'inspect', m.Name);
    await docker('create', '--name', 'prune-me', 'berth-test/busybox', 'true');
    expect((await withInput(process.execPath, [...cli, 'container', 'prune', '-f'], '')).stdout).toMatch(/Deleted Containers:\n[0-9a-f]{64}\n/);
    await docker('volume', 'prune', '-f');
  });

  it('docker events: a run --rm, replayed between --since and --until, filtered and formatted by the docker CLI', async () => {
    const since = (Date.now() / 1000).toFixed(3);
    await docker('run', '--rm', '--name', 'evt', '-l', 'evt=1', 'berth-test/busybox', 'sh', '-c', 'exit 2').catch(() => undefined);
    const until = (Date.now() / 1000 + 0.5).toFixed(3);
    const { stdout } = await docker('events', '--since', since, '--until', until, '--filter', 'container=evt', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.exitCode}}');
    // Go templates print "<no value>" for an attribute an event does not have.
    expect(stdout.trim().split('\n').map((l) => l.replace(' <no value>', '').trim())).toEqual(['container create', 'container start', 'container die 2', 'container destroy']);
    const labelled = await docker('events', '--since', since, '--until', until, '--filter', 'label=evt=1', '--filter', 'event=die', '--format', '{{.Actor.Attributes.name}}');
    expect(labelled.stdout.trim()).toBe('evt');
  });

  it('dockerode: create, wait (registered), start, exit code', async () => {
    const d = new Docker({ socketPath });
    const c = await d.createContainer({ Image: 'berth-test/busybox', Cmd: ['echo', 'dockerode'] });
    const waited = await waitContainer(socketPath, c.id, 'next-exit');
    await c.start();
    expect((await waited.exited).StatusCode).toBe(0);
    await c.remove();
  });

  it('restart reconciliation: SIGKILL the supervisor with containers running, start again', async () => {
    const d = new Docker({ socketPath });
    // It runs until the test opens the gate, after the restart: no timing to race on a loaded machine.
    const gate = join(root, 'gate');
    const long = await d.createContainer({
      Image: 'berth-test/busybox', Cmd: ['sh', '-c', 'echo a; while [ ! -e /gate/open ]; do sleep 0.1; done; echo b; exit 7'],
      HostConfig: { Binds: [`${gate}:/gate`] },
    });
    await long.start();
    const rm = await d.createContainer({ Image: 'berth-test/busybox', Cmd: ['sh', '-c', 'sleep 0.5'], HostConfig: { AutoRemove: true } });
    await rm.start();
    daemon.kill('SIGKILL');
    await new Promise((r) => daemon.once('exit', r));
    await sleep(1000);
    await startDaemon();
    const d2 = new Docker({ socketPath });
    expect((await d2.getContainer(long.id).inspect()).State.Running).toBe(true);
    writeFileSync(join(gate, 'open'), '');
    expect((await d2.getContainer(long.id).wait()).StatusCode).toBe(7);
    const logs = (await d2.getContainer(long.id).logs({ stdout: true })) as unknown as Buffer;
    expect(logs.toString()).toContain('b\n');
    await expect(d2.getContainer(rm.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await d2.getContainer(long.id).remove();
  });

  const gone = (pid: number): boolean => {
    try {
      return /^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return true;
    }
  };
  async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(25);
    }
  }

  it('output survives a SIGKILLed supervisor: every line of a container that exits meanwhile, in order, and its exit code', async () => {
    const N = 3000;
    const d = new Docker({ socketPath });
    const script = `i=0; while [ $i -lt ${N} ]; do i=$((i+1)); echo "line $i"; [ $((i % 300)) -eq 0 ] && sleep 0.1; done; exit 4`;
    const c = await d.createContainer({ Image: 'berth-test/busybox', Cmd: ['sh', '-c', script] });
    await c.start();
    const pid = (await c.inspect()).State.Pid;
    await until('output in the log', async () => ((await c.logs({ stdout: true })) as unknown as Buffer).toString().includes('line 300\n'));
    daemon.kill('SIGKILL');
    await new Promise((r) => daemon.once('exit', r));
    await until('the container to exit while no supervisor runs', () => gone(pid));
    await startDaemon();
    const c2 = new Docker({ socketPath }).getContainer(c.id);
    expect((await c2.wait()).StatusCode).toBe(4);
    // Its cgroup went when the restarted supervisor saw the exit, not only at its removal.
    expect(berthCgroups().filter((g) => g.includes(c.id))).toEqual([]);
    const { stdout } = await docker('logs', c.id);
    const lines = stdout.split('\n').filter((l) => l !== '');
    // Nothing missing or out of order. A kill between a log append and saving its offset would
    // repeat that chunk; here the kill lands in the container's pause after line 300, so no repeat either.
    expect([...new Set(lines)]).toEqual(Array.from({ length: N }, (_, i) => `line ${i + 1}`));
    expect(lines.length).toBe(N);
    for (const line of readFileSync(join(root, 'supervisor', c.id, `${c.id}-json.log`), 'utf8').split('\n').slice(0, -1)) {
      expect(Object.keys(JSON.parse(line) as object)).toEqual(['log', 'stream', 'time']);
    }
    await c2.remove();
    expect(existsSync(join(root, 'supervisor', c.id))).toBe(false);
  });

  it('a container writing more than 1 MiB while the supervisor is down does not block, and its exit is seen after restart', async () => {
    const d = new Docker({ socketPath });
    const c = await d.createContainer({ Image: 'berth-test/busybox', Cmd: ['sh', '-c', 'sleep 0.3; head -c 3000000 /dev/zero | tr "\\0" y; echo; exit 5'] });
    await c.start();
    const pid = (await c.inspect()).State.Pid;
    daemon.kill('SIGKILL');
    await new Promise((r) => daemon.once('exit', r));
    // With a pipe it would stall at 64 KiB until a supervisor read it.
    await until('the container to finish with no supervisor', () => gone(pid), 15_000);
    await startDaemon();
    const c2 = new Docker({ socketPath }).getContainer(c.id);
    expect((await c2.wait()).StatusCode).toBe(5);
    const logs = (await c2.logs({ stdout: true })) as unknown as Buffer;
    const text = deframe(logs).frames.map((f) => f.payload.toString()).join('');
    expect(text.length).toBe(3_000_001);
    expect(text).toBe('y'.repeat(3_000_000) + '\n');
    await c2.remove();
  });
});
