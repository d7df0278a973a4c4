import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pumpStream } from '../../src/attach.js';
import { Demuxer, demuxAll, encodeFrame } from '../../src/stream.js';
import { describeFailure, DaemonError, UsageError } from '../../src/errors.js';
import { exitCodeForStartError, exitCodeForStatus } from '../../src/exit-codes.js';
import { buildPath, encodeFilters } from '../../src/client.js';

describe('multiplexed stream framing', () => {
  it('splits frames whatever the chunk boundaries', () => {
    const data = Buffer.concat([encodeFrame(1, 'hello '), encodeFrame(2, 'oops\n'), encodeFrame(1, ''), encodeFrame(1, 'world\n')]);
    for (let step = 1; step <= data.length; step++) {
      const got: string[] = [];
      const d = new Demuxer((f) => got.push(`${f.stream}:${f.payload.toString()}`));
      for (let i = 0; i < data.length; i += step) d.push(data.subarray(i, i + step));
      expect(got).toEqual(['1:hello ', '2:oops\n', '1:', '1:world\n']);
      expect(d.leftover).toBe(0);
    }
  });
  it('refuses a stream that is not framed, and a truncated frame', () => {
    expect(() => demuxAll(Buffer.from('plain text, no header'))).toThrow(/unexpected stream type/);
    expect(() => demuxAll(encodeFrame(1, 'abcdef').subarray(0, 10))).toThrow(/ended inside a frame/);
  });
  it('writes stdout frames to out and stderr/system frames to err', async () => {
    const source = new PassThrough();
    const out = new PassThrough();
    const err = new PassThrough();
    const outText: string[] = [];
    const errText: string[] = [];
    out.on('data', (c: Buffer) => outText.push(c.toString()));
    err.on('data', (c: Buffer) => errText.push(c.toString()));
    const done = pumpStream(source, out, err);
    source.end(Buffer.concat([encodeFrame(1, 'a'), encodeFrame(2, 'b'), encodeFrame(3, 'c'), encodeFrame(0, 'd')]));
    await done;
    expect(outText.join('')).toBe('ad');
    expect(errText.join('')).toBe('bc');
  });
});

describe('exit codes', () => {
  it('passes the container status through and uses 125 for berth failures', () => {
    expect(exitCodeForStatus(0)).toBe(0);
    expect(exitCodeForStatus(3)).toBe(3);
    expect(exitCodeForStatus(127)).toBe(127);
    expect(exitCodeForStatus(-1)).toBe(125);
    expect(exitCodeForStatus(undefined)).toBe(125);
    expect(describeFailure(new DaemonError(404, 'No such container: x'))).toEqual({ message: 'Error response from daemon: No such container: x', exitCode: 125 });
    expect(describeFailure(new UsageError('bad'))).toEqual({ message: 'berth: bad', exitCode: 125 });
    expect(describeFailure(new Error('boom')).exitCode).toBe(125);
  });
  it('maps start errors as docker run does: 127 not found, 126 cannot invoke', () => {
    expect(exitCodeForStartError('exec: "nope": executable file not found in $PATH')).toBe(127);
    expect(exitCodeForStartError('exec /bin/x: no such file or directory')).toBe(127);
    expect(exitCodeForStartError('exec /etc/passwd: permission denied')).toBe(126);
    expect(exitCodeForStartError('cgroup setup failed')).toBe(125);
  });
});

describe('query encoding', () => {
  it('encodes booleans as 1 and leaves out false/undefined', () => {
    expect(buildPath('/containers/x', { v: true, force: false, t: 5, signal: undefined })).toBe('/containers/x?v=1&t=5');
    expect(encodeFilters(['label=a=b', 'dangling=true', 'label=c'])).toBe('{"label":{"a=b":true,"c":true},"dangling":{"true":true}}');
    expect(encodeFilters([])).toBeUndefined();
  });
});
