/**
 * `docker stats`, `docker pause`/`unpause` and `docker update` against a real
 * supervisor, through the docker CLI and dockerode: the stats JSON beside the
 * reference dockerd's, the frozen cgroup (a counter that stops), the thaw after
 * stop/kill/rm -f, exec and attach refused while paused, commit's pause, live
 * limits read back from the container's cgroup files, and Docker's errors.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { busyboxImageArchive } from '../helpers/busybox-image.js';
import { describeRoot } from '@berth/testing';

const run = promisify(execFile);
/** Recorded from the reference dockerd (see the fixture's `source`): no test needs a running dockerd. */
const DOCKERD_STATS_KEYS = (JSON.parse(readFileSync(new URL('../fixtures/dockerd-20.10-stats-keys.json', import.meta.url), 'utf8')) as { keys: string[] }).keys;
const IMAGE = 'berth-test/busybox';
const COUNTER = 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The container's cgroup directory in a v1 hierarchy, from its init's /proc/PID/cgroup. */
function cgroupFile(pid: number, controller: string, file: string): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
  if (!line) throw new Error(`no ${controller} cgroup for ${pid}`);
  return readFileSync(join('/sys/fs/cgroup', controller, line.split(':')[2] ?? '', file), 'utf8').trim();
}

/** The keys of an object and its nested objects (not arrays), as paths. */
function keyPaths(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return [];
  return Object.entries(o).flatMap(([k, v]) => [`${prefix}${k}`, ...keyPaths(v, `${prefix}${k}.`)]).sort();
}

describeRoot('stats, pause and update (docker CLI, dockerode)', () => {
  let root: string;
  let socketPath: string;
  let sup: Supervisor;
  let docker: Docker;
  const env = (host = `unix://${socketPath}`): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: join(root, 'docker-config') });
  const cli = (...args: string[]): Promise<{ stdout: string; stderr: string }> => run('docker', args, { env: env(), encoding: 'utf8' });
  /** The CLI's failure: its stderr (Docker's message), or an error when it succeeded. */
  const cliFails = async (...args: string[]): Promise<string> => {
    try {
      await cli(...args);
    } catch (error) {
      return (error as { stderr: string }).stderr;
    }
    throw new Error(`docker ${args.join(' ')} succeeded`);
  };
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ socketPath, method, path, headers: { 'Content-Type': 'application/json' } }, resolve);
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    return { status: res.statusCode ?? 0, json: text === '' ? undefined : JSON.parse(text) };
  };
  const pidOf = async (id: string): Promise<number> => (await docker.getContainer(id).inspect()).State.Pid;
  /** The container's counter; 0 until its shell has written /tmp/n the first time (right after `run -d` it may not have). */
  const counter = (pid: number): number => {
    try {
      return Number(readFileSync(`/proc/${pid}/root/tmp/n`, 'utf8').trim() || '0');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'berth-ops-'));
    socketPath = join(root, 'berth.sock');
    sup = await Supervisor.start({ root: join(root, 'state'), socketPath, workers: 1 });
    docker = new Docker({ socketPath });
    const loaded = await docker.loadImage(Buffer.from(await busyboxImageArchive()) as unknown as NodeJS.ReadableStream);
    await new Promise((r) => (loaded as NodeJS.ReadableStream).on('end', r).resume());
  });

  afterAll(async () => {
    for (const c of await docker.listContainers({ all: true })) {
      // An --rm container may be gone by now (its auto-removal raced this one); the rest must still go.
      await docker.getContainer(c.Id).remove({ force: true, v: true }).catch((error: unknown) => console.error(`cleanup of ${c.Id}: ${String(error)}`));
    }
    await sup.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('stats: the docker CLI table, and the JSON with every key the reference dockerd gives', async () => {
    const id = (await cli('run', '-d', '--name', 'stats1', '-m', '64m', IMAGE, 'sleep', '300')).stdout.trim();
    const table = (await cli('stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'stats1')).stdout.trim();
    expect(table).toMatch(/^stats1 [\d.]+[KM]iB \/ 64MiB 1$/);

    const { status, json } = await api('GET', `/v1.41/containers/${id}/stats?stream=false`);
    expect(status).toBe(200);
    const s = json as Record<string, Record<string, unknown>>;
    expect(s['cpu_stats']?.['online_cpus']).toBe(cpus().length);
    expect(Number(s['cpu_stats']?.['system_cpu_usage'])).toBeGreaterThan(Number(s['precpu_stats']?.['system_cpu_usage']));
    expect((s['memory_stats']?.['stats'] as Record<string, number>)['total_inactive_file']).toBeTypeOf('number');
    expect(s['memory_stats']?.['limit']).toBe(64 * 1024 * 1024);
    expect(s['pids_stats']).toMatchObject({ current: 1 });

    // The same keys, nested, as dockerd 20.10 gives for the same container (recorded from it; both on the default bridge).
    expect(keyPaths(s)).toEqual(DOCKERD_STATS_KEYS);
  });

  it('stats: one-shot has no previous reading; a stream gives the previous one as precpu; a stopped container zeros', async () => {
    const id = (await cli('run', '-d', IMAGE, 'sleep', '300')).stdout.trim();
    const one = (await api('GET', `/v1.41/containers/${id}/stats?stream=false&one-shot=true`)).json as Record<string, Record<string, unknown>>;
    expect(one['preread']).toBe('0001-01-01T00:00:00Z');
    expect(one['precpu_stats']).toEqual({ cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } });

    const stream = await docker.getContainer(id).stats({ stream: true }) as unknown as NodeJS.ReadableStream;
    const frames: Record<string, Record<string, unknown>>[] = [];
    let buffered = '';
    await new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          frames.push(JSON.parse(buffered.slice(0, nl)) as Record<string, Record<string, unknown>>);
          buffered = buffered.slice(nl + 1);
        }
        if (frames.length >= 2) resolve();
      });
    });
    (stream as unknown as { destroy(): void }).destroy();
    expect(frames[1]?.['preread']).toBe(frames[0]?.['read']);
    expect(frames[1]?.['precpu_stats']).toEqual(frames[0]?.['cpu_stats']);

    await cli('rm', '-f', id);
    const stopped = (await cli('create', IMAGE, 'true')).stdout.trim();
    const zero = await api('GET', `/v1.41/containers/${stopped}/stats?stream=false`);
    expect(zero.status).toBe(200);
    expect(zero.json).toMatchObject({ read: '0001-01-01T00:00:00Z', memory_stats: {}, pids_stats: {}, id: stopped });
    expect((await cli('stats', '--no-stream', '--format', '{{.MemUsage}} {{.PIDs}}', stopped)).stdout.trim()).toBe('0B / 0B 0');
    expect((await api('GET', '/v1.41/containers/nope/stats?stream=false')).status).toBe(404);
    expect((await api('GET', `/v1.41/containers/${stopped}/stats?stream=true&one-shot=true`)).status).toBe(400);
  });

  it('pause freezes every process (a counter stops), shows in inspect, ps and events; unpause lets it run', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = (await cli('run', '-d', '--name', 'paused1', IMAGE, 'sh', '-c', COUNTER)).stdout.trim();
    const pid = await pidOf(id);
    while (counter(pid) < 2) await sleep(20);
    await cli('pause', 'paused1');
    const frozenAt = counter(pid);
    await sleep(300);
    expect(counter(pid)).toBe(frozenAt);
    const state = (await docker.getContainer(id).inspect()).State;
    expect(state).toMatchObject({ Status: 'paused', Paused: true, Running: true });
    expect((await cli('ps', '--format', '{{.Names}} {{.Status}}', '--filter', 'status=paused')).stdout).toMatch(/^paused1 Up .* \(Paused\)$/m);

    await cli('unpause', 'paused1');
    while (counter(pid) === frozenAt) await sleep(20);
    expect((await docker.getContainer(id).inspect()).State).toMatchObject({ Status: 'running', Paused: false });
    const until = Math.ceil(Date.now() / 1000) + 1;
    const actions = (await cli('events', '--since', String(since), '--until', String(until), '--filter', `container=${id}`, '--format', '{{.Action}}')).stdout;
    expect(actions).toContain('pause\nunpause\n');
  });

  it('a paused container is still paused for the next supervisor (the state is the kernel\'s), and unpauses there', async () => {
    const id = (await cli('run', '-d', IMAGE, 'sh', '-c', COUNTER)).stdout.trim();
    const pid = await pidOf(id);
    while (counter(pid) < 2) await sleep(20);
    await cli('pause', id);
    await sup.close();
    sup = await Supervisor.start({ root: join(root, 'state'), socketPath, workers: 1 });
    expect((await docker.getContainer(id).inspect()).State).toMatchObject({ Status: 'paused', Paused: true, Pid: pid });
    const frozenAt = counter(pid);
    await cli('unpause', id);
    while (counter(pid) === frozenAt) await sleep(20);
  });

  it("pause's refusals: Docker's texts and statuses, exec and attach while paused get 409", async () => {
    const id = (await cli('run', '-d', '--name', 'paused2', IMAGE, 'sleep', '300')).stdout.trim();
    await cli('pause', id);
    expect(await cliFails('pause', 'paused2')).toContain(`Container ${id} is already paused`);
    expect(await cliFails('exec', 'paused2', 'true')).toContain('Container paused2 is paused, unpause the container before exec');
    const attach = await api('POST', '/v1.41/containers/paused2/attach?stream=1&stdout=1');
    expect(attach).toEqual({ status: 409, json: { message: 'container paused2 is paused, unpause the container before attach' } });
    await cli('unpause', id);
    expect(await cliFails('unpause', 'paused2')).toContain(`Container ${id} is not paused`);
    expect((await api('POST', '/v1.41/containers/paused2/unpause')).status).toBe(409);
    const created = (await cli('create', IMAGE, 'true')).stdout.trim();
    expect(await api('POST', `/v1.41/containers/${created}/pause`)).toEqual({ status: 409, json: { message: `Container ${created} is not running` } });
    expect((await api('POST', '/v1.41/containers/nope/pause')).status).toBe(404);
    expect((await api('POST', '/v1.41/containers/nope/unpause')).status).toBe(404);
  });

  it('stop, kill and rm -f end a paused container (the v1 freezer holds signalled tasks until thawed)', async () => {
    // The trap proves SIGTERM reached it: exit 3, not the SIGKILL's 137.
    const trapped = (await cli('run', '-d', IMAGE, 'sh', '-c', 'trap "exit 3" TERM; while true; do sleep 0.05; done')).stdout.trim();
    await sleep(200);
    await cli('pause', trapped);
    await cli('stop', '-t', '20', trapped);
    expect((await docker.getContainer(trapped).inspect()).State).toMatchObject({ Status: 'exited', ExitCode: 3, Paused: false });

    const killed = (await cli('run', '-d', IMAGE, 'sleep', '300')).stdout.trim();
    await cli('pause', killed);
    await cli('kill', killed);
    expect((await docker.getContainer(killed).inspect()).State).toMatchObject({ Status: 'exited', ExitCode: 137 });

    const removed = (await cli('run', '-d', IMAGE, 'sleep', '300')).stdout.trim();
    await cli('pause', removed);
    await cli('rm', '-f', removed);
    expect((await api('GET', `/v1.41/containers/${removed}/json`)).status).toBe(404);
  });

  it('a paused container is not probed: its healthcheck log stands still until unpause', async () => {
    const id = (await cli('run', '-d', '--health-cmd', 'true', '--health-interval', '200ms', IMAGE, 'sleep', '300')).stdout.trim();
    const health = async (): Promise<{ Status: string; Log: unknown[] }> => (await docker.getContainer(id).inspect()).State.Health as never;
    while ((await health()).Log.length < 1) await sleep(50);
    await cli('pause', id);
    const before = (await health()).Log.length;
    await sleep(1000);
    expect((await health()).Log.length).toBe(before);
    expect((await health()).Status).toBe('healthy');
    await cli('unpause', id);
    while ((await health()).Log.length === before) await sleep(50);
  });

  it('--memory-reservation and --cpuset-cpus are honoured at create: in the cgroup; a container without has no cpuset cgroup of its own', async () => {
    const id = (await cli('run', '-d', '--memory-reservation', '12m', '--cpuset-cpus', String(cpus().length - 1), IMAGE, 'sleep', '300')).stdout.trim();
    expect(cgroupFile(await pidOf(id), 'memory', 'memory.soft_limit_in_bytes')).toBe(String(12 * 1024 * 1024));
    expect(cgroupFile(await pidOf(id), 'cpuset', 'cpuset.cpus')).toBe(String(cpus().length - 1));
    const plain = (await cli('run', '-d', IMAGE, 'sleep', '300')).stdout.trim();
    expect(readFileSync(`/proc/${await pidOf(plain)}/cgroup`, 'utf8')).not.toMatch(/:cpuset:.*\/berth\//);
    expect((await docker.getContainer(id).inspect()).HostConfig.MemoryReservation).toBe(12 * 1024 * 1024);
  });

  it("commit pauses a running container for the commit (pause and unpause events), not with --pause=false", async () => {
    const id = (await cli('run', '-d', IMAGE, 'sh', '-c', 'echo hi > /tmp/hi; sleep 300')).stdout.trim();
    const since = Math.floor(Date.now() / 1000) - 1;
    await cli('commit', id, 'berth-test/committed:paused');
    await cli('commit', '--pause=false', id, 'berth-test/committed:running');
    const until = Math.ceil(Date.now() / 1000) + 1;
    const actions = (await cli('events', '--since', String(since), '--until', String(until), '--filter', `container=${id}`, '--format', '{{.Action}}')).stdout;
    expect(actions.match(/^pause$/gm)?.length).toBe(1);
    expect(actions.match(/^unpause$/gm)?.length).toBe(1);
    expect((await docker.getContainer(id).inspect()).State.Status).toBe('running');
  });

  it('update: limits live in the cgroup, stored in HostConfig, restart policy honoured; a stopped one gets them at start', async () => {
    const id = (await cli('run', '-d', '--name', 'upd1', IMAGE, 'sleep', '300')).stdout.trim();
    await cli('update', '--memory', '64m', '--memory-swap', '128m', '--memory-reservation', '10m', '--cpu-shares', '512',
      '--cpu-quota', '50000', '--cpu-period', '100000', '--pids-limit', '50', '--restart', 'on-failure:3', 'upd1');
    const host = (await docker.getContainer(id).inspect()).HostConfig;
    expect(host).toMatchObject({ Memory: 67108864, MemorySwap: 134217728, MemoryReservation: 10485760, CpuShares: 512,
      CpuQuota: 50000, CpuPeriod: 100000, PidsLimit: 50, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } });
    const pid = await pidOf(id);
    expect(cgroupFile(pid, 'memory', 'memory.limit_in_bytes')).toBe('67108864');
    expect(cgroupFile(pid, 'memory', 'memory.soft_limit_in_bytes')).toBe('10485760');
    expect(cgroupFile(pid, 'cpu', 'cpu.shares')).toBe('512');
    expect(cgroupFile(pid, 'cpu', 'cpu.cfs_quota_us')).toBe('50000');
    expect(cgroupFile(pid, 'pids', 'pids.max')).toBe('50');
    // A container started without a cpuset has no cpuset cgroup (it costs every launch ~1 ms): refused, nothing changed.
    expect(await cliFails('update', '--cpuset-cpus', '0', '--pids-limit', '60', 'upd1')).toContain('has no cpuset cgroup');
    expect(cgroupFile(pid, 'pids', 'pids.max')).toBe('50');
    const pinned = (await cli('run', '-d', '--cpuset-cpus', '0', IMAGE, 'sleep', '300')).stdout.trim();
    await cli('update', '--cpuset-cpus', String(cpus().length - 1), pinned);
    expect(cgroupFile(await pidOf(pinned), 'cpuset', 'cpuset.cpus')).toBe(String(cpus().length - 1));
    expect((await docker.getContainer(pinned).inspect()).HostConfig.CpusetCpus).toBe(String(cpus().length - 1));
    // Growing past the old memory+swap works: memsw is written first.
    await cli('update', '--memory', '200m', '--memory-swap', '400m', 'upd1');
    expect(cgroupFile(pid, 'memory', 'memory.limit_in_bytes')).toBe(String(200 * 1024 * 1024));

    // The stored policy is what decides after an exit.
    await cli('update', '--restart', 'always', 'upd1');
    await cli('kill', 'upd1');
    for (let i = 0; i < 100 && (await docker.getContainer(id).inspect()).RestartCount === 0; i++) await sleep(50);
    expect((await docker.getContainer(id).inspect()).RestartCount).toBeGreaterThan(0);
    await cli('update', '--restart', 'no', 'upd1');

    const stopped = (await cli('create', IMAGE, 'sleep', '300')).stdout.trim();
    await cli('update', '--pids-limit', '7', stopped);
    await cli('start', stopped);
    expect(cgroupFile(await pidOf(stopped), 'pids', 'pids.max')).toBe('7');
  });

  it("update's refusals: unimplemented fields by name, Docker's checks and conflicts, unknown container 404", async () => {
    const id = (await cli('run', '-d', '--name', 'upd2', IMAGE, 'sleep', '300')).stdout.trim();
    expect(await cliFails('update', '--memory', '64m', 'upd2'))
      .toContain(`Cannot update container ${id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time`);
    expect((await api('POST', '/v1.41/containers/upd2/update', { Memory: 64 << 20 })).status).toBe(409);
    expect(await cliFails('update', '--memory', '1m', '--memory-swap', '2m', 'upd2')).toContain('Minimum memory limit allowed is 6MB');
    expect(await api('POST', '/v1.41/containers/upd2/update', { KernelMemory: 10 << 20 }))
      .toEqual({ status: 400, json: { message: 'berth does not implement KernelMemory (got 10485760): leave it unset' } });
    expect((await api('POST', '/v1.41/containers/upd2/update', { BlkioWeight: 300 })).status).toBe(400);
    expect(await cliFails('update', '--cpuset-cpus', '0-x', 'upd2')).toContain('Invalid value 0-x for cpuset cpus');
    expect((await api('POST', '/v1.41/containers/upd2/update', { RestartPolicy: { Name: 'bogus' } })).status).toBe(400);
    expect((await api('POST', '/v1.41/containers/nope/update', { Memory: 64 << 20 })).status).toBe(404);
    expect(await api('POST', '/v1.41/containers/upd2/update', { CpuShares: 600 })).toEqual({ status: 200, json: { Warnings: null } });
    const auto = (await cli('run', '-d', '--rm', IMAGE, 'sleep', '300')).stdout.trim();
    expect(await cliFails('update', '--restart', 'always', auto)).toContain('Restart policy cannot be updated because AutoRemove is enabled for the container');
  });
});
