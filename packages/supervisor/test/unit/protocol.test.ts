import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { queryBool } from '../../src/api/http-util.js';
import { stripVersion } from '../../src/api/router.js';
import { httpStatusFor, NoSuchContainerError, NotModifiedError } from '../../src/errors.js';
import { deframe, frame } from '../../src/framing.js';
import { parseTail, readLog, splitLines } from '../../src/json-log.js';
import { generateName, normalizeName } from '../../src/names.js';
import { parseSignal } from '../../src/process-control.js';

describe('query booleans', () => {
  it('treats "", 0, no, false, none as false and anything else as true', () => {
    for (const v of ['', '0', 'no', 'false', 'none', 'FALSE']) expect(queryBool(v)).toBe(false);
    for (const v of ['1', 'true', 'yes', 'x']) expect(queryBool(v)).toBe(true);
    expect(queryBool(null)).toBe(false);
    expect(queryBool(null, true)).toBe(true);
  });
});

describe('stream framing', () => {
  it('frames with the 8-byte header and deframes back, whatever the payloads', () => {
    expect([...frame(2, Buffer.from('hi')).subarray(0, 8)]).toEqual([2, 0, 0, 0, 0, 0, 0, 2]);
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(1, 2), fc.uint8Array({ maxLength: 300 }))), (parts) => {
      const buf = Buffer.concat(parts.map(([t, p]) => frame(t, Buffer.from(p))));
      const { frames, rest } = deframe(buf);
      expect(rest.length).toBe(0);
      expect(frames.map((f) => [f.type, [...f.payload]])).toEqual(parts.map(([t, p]) => [t, [...p]]));
    }));
  });
});

describe('log records', () => {
  it('splits chunks into lines and keeps a trailing partial line', () => {
    expect(splitLines('a\nb\nc')).toEqual(['a\n', 'b\n', 'c']);
    expect(splitLines('\n')).toEqual(['\n']);
    expect(parseTail('all')).toBeUndefined();
    expect(parseTail('3')).toBe(3);
    expect(readLog('/nonexistent/log', { stdout: true, stderr: true })).toEqual([]);
  });
});

describe('names', () => {
  it('generates unused docker-style names', () => {
    const taken = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const n = generateName((x) => taken.has(x));
      expect(n).toMatch(/^[a-z]+_[a-z]+\d?$|^berth_[0-9a-f]+$/);
      expect(taken.has(n)).toBe(false);
      taken.add(n);
    }
  });
  it('validates user names as docker does', () => {
    expect(normalizeName('/web-1')).toBe('web-1');
    expect(() => normalizeName('a')).toThrow(/Invalid container name/);
    expect(() => normalizeName('bad name')).toThrow(/Invalid container name/);
  });
});

describe('errors and paths', () => {
  it('maps error codes onto docker statuses', () => {
    expect(httpStatusFor(new NoSuchContainerError('x'))).toBe(404);
    expect(httpStatusFor(new NotModifiedError('x'))).toBe(304);
    expect(httpStatusFor(new Error('boom'))).toBe(500);
    // A code alone, without a kind, says nothing: no status is guessed from it.
    expect(httpStatusFor({ code: 'InvalidName' })).toBe(500);
  });
  it('strips any /vX.Y prefix', () => {
    expect(stripVersion('/v1.47/containers/json')).toBe('/containers/json');
    expect(stripVersion('/v1/_ping')).toBe('/_ping');
    expect(stripVersion('/volumes/v1.2')).toBe('/volumes/v1.2');
  });
  it('parses signals by name and number', () => {
    expect(parseSignal('TERM')).toBe(15);
    expect(parseSignal('SIGKILL')).toBe(9);
    expect(parseSignal('2')).toBe(2);
    expect(parseSignal(undefined)).toBe(9);
    expect(() => parseSignal('NOPE')).toThrow(/Invalid signal/);
  });
});
