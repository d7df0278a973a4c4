import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ExitStatus, StartedContainer } from '@berth/runtime';
import { type TestEnv, describeRoot, hostMountTable, openTestEnv } from '@berth/testing';

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
}

describeRoot('Config.Tty: the command on a terminal of the container', () => {
  let env: TestEnv;
  let mountsBefore: string;

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    env = await openTestEnv();
  });
  afterAll(async () => {
    await env.close();
    expect(hostMountTable()).toBe(mountsBefore);
  });

  /** Starts `script` with a terminal; stdin is a pipe we write `input` into, then close. */
  async function withTerminal(script: string, opts: { size?: string; input?: string; onStart?: (s: StartedContainer, sizeFile: string) => Promise<void> } = {}):
    Promise<{ status: ExitStatus; output: string }> {
    const { id, spec } = env.create(['sh', '-c', script], {}, { Tty: true });
    const out = join(env.root, `${id}.out`);
    const sizeFile = join(env.root, `${id}.winsize`);
    writeFileSync(sizeFile, opts.size ?? '');
    const [stdinRead, stdinWrite] = env.syscalls.pipe2(0);
    const fds = { stdout: openSync(out, 'w'), size: openSync(sizeFile, 'r') };
    let started: StartedContainer;
    try {
      started = await env.runtime.start({
        id, spec,
        stdio: { stdin: stdinRead, stdout: fds.stdout, stderr: fds.stdout, terminalSize: fds.size },
        statusPath: join(env.root, `${id}.status`),
      });
    } finally {
      closeSync(stdinRead);
      closeSync(fds.stdout);
      closeSync(fds.size);
    }
    await opts.onStart?.(started, sizeFile);
    if (opts.input !== undefined) writeFileSync(stdinWrite, opts.input);
    closeSync(stdinWrite);
    const status = await started.exited;
    await env.runtime.cleanup(id, { removeAnonymousVolumes: true });
    return { status, output: readFileSync(out, 'utf8') };
  }

  it("runs on the container's own terminal, as its controlling terminal, with the size given; stderr goes there too", async () => {
    const r = await withTerminal('tty; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-ttys; echo err >&2; ls -l /proc/self/fd/0 | grep -c pts; exit 4', { size: '33 101\n' });
    expect(r.status.exitCode).toBe(4);
    // The terminal translates \n into \r\n, as under docker run -t.
    expect(r.output).toBe('/dev/pts/0\r\n33 101\r\nall-ttys\r\nerr\r\n1\r\n');
  });

  it('takes input through the terminal (echoed, as a terminal does) and follows a resize: size file, then SIGWINCH to the shim', async () => {
    const r = await withTerminal('stty size; read line; echo "got:$line"; stty size', {
      size: '24 80',
      input: 'hello\n',
      onStart: async (s, sizeFile) => {
        // The terminal exists and has its first size once the command printed it.
        await waitFor(() => readFileSync(join(env.root, `${s.id}.out`), 'utf8').includes('24 80'));
        writeFileSync(sizeFile, '50 132\n');
        process.kill(s.shim.pid, 'SIGWINCH');
      },
    });
    expect(r.status.exitCode).toBe(0);
    expect(r.output).toBe('24 80\r\nhello\r\ngot:hello\r\n50 132\r\n');
  });

  it('follows a resize written to the size file alone (no signal: a re-adopting supervisor may know only PID 1)', async () => {
    const r = await withTerminal('stty size; i=0; while [ "$(stty size)" != "61 140" ] && [ $i -lt 250 ]; do usleep 20000; i=$((i+1)); done; stty size', {
      size: '24 80',
      onStart: async (s, sizeFile) => {
        await waitFor(() => readFileSync(join(env.root, `${s.id}.out`), 'utf8').includes('24 80'));
        // As the supervisor writes it: in place, one record at offset 0, then closed.
        writeFileSync(sizeFile, '61 140\n', { flag: 'r+' });
      },
    });
    expect(r.output).toBe('24 80\r\n61 140\r\n');
  });

  it('keeps the output of processes still writing when the command exits, and reports the exit only after', async () => {
    const r = await withTerminal('for i in 1 2 3 4 5; do echo line$i; done; exit 0');
    expect(r.output).toBe('line1\r\nline2\r\nline3\r\nline4\r\nline5\r\n');
  });
});
