import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseFilters, queryBool } from '../../src/api/http-util.js';
import { stripVersion } from '../../src/api/router.js';
import { filterContainers } from '../../src/api/container-routes.js';
import { volumeListFilters } from '../../src/api/volume-routes.js';
import { mergeImageConfig, parseCreateBody } from '../../src/create-request.js';
import { httpStatusFor, InvalidParameterError, NoSuchContainerError, NotModifiedError } from '../../src/errors.js';
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

describe('filters', () => {
  it('accepts the CLI and dockerode encodings alike', () => {
    expect(parseFilters('{"dangling":{"true":true},"label":{"a=b":true}}')).toEqual({ dangling: ['true'], label: ['a=b'] });
    expect(parseFilters('{"dangling":["true"],"label":["a=b"]}')).toEqual({ dangling: ['true'], label: ['a=b'] });
    expect(parseFilters(null)).toEqual({});
  });
  it('rejects malformed filters with a 400', () => {
    expect(() => parseFilters('{nope')).toThrow(InvalidParameterError);
    expect(() => parseFilters('[1]')).toThrow(/invalid filter/);
    expect(() => volumeListFilters({ dangling: ['maybe'] })).toThrow(/dangling/);
    expect(() => volumeListFilters({ colour: ['red'] })).toThrow(/invalid filter 'colour'/);
    expect(volumeListFilters({ dangling: ['1'], name: ['a'] })).toEqual({ dangling: true, name: ['a'] });
  });
  it('filters containers by status, name and label', () => {
    const base = { image: 'i', imageId: 'sha256:x', hostConfig: {}, mounts: [], pid: 0, startTime: 0, exitCode: 0, error: '', oomKilled: false, created: '', startedAt: '', finishedAt: '', autoRemove: false, anonymousVolumes: [], restartCount: 0, manuallyStopped: false };
    const list = [
      { ...base, id: 'a'.repeat(64), name: 'web', state: 'running' as const, config: { Labels: { app: 'x' } } },
      { ...base, id: 'b'.repeat(64), name: 'db', state: 'exited' as const, config: {} },
    ];
    expect(filterContainers(list, { status: ['exited'] }).map((c) => c.name)).toEqual(['db']);
    expect(filterContainers(list, { name: ['we'] }).map((c) => c.name)).toEqual(['web']);
    expect(filterContainers(list, { label: ['app=x'] }).map((c) => c.name)).toEqual(['web']);
    expect(() => filterContainers(list, { bogus: ['1'] })).toThrow(/invalid filter/);
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

describe('create requests', () => {
  it('accepts what the docker CLI sends (zero values, nulls, unknown keys)', () => {
    const req = parseCreateBody({
      Image: 'busybox', Cmd: ['true'], Env: null, Entrypoint: null, Volumes: {}, Unknown: 1,
      HostConfig: { NetworkMode: 'default', PidsLimit: 0, Memory: 0, MaskedPaths: null, SomethingNew: true },
      NetworkingConfig: { EndpointsConfig: { default: {} } },
    });
    expect(req.image).toBe('busybox');
    expect(req.hostConfig.MaskedPaths).toBeNull();
  });
  it('rejects wrong types with a message naming the field', () => {
    expect(() => parseCreateBody({ Image: 'b', Env: 'A=1' })).toThrow(/Env must be an array of strings/);
    expect(() => parseCreateBody({ Image: 'b', HostConfig: { Binds: [1] } })).toThrow(/HostConfig.Binds/);
    expect(() => parseCreateBody({ Image: 'b', HostConfig: [] })).toThrow(/HostConfig must be an object/);
    expect(() => parseCreateBody({ Cmd: ['x'] })).toThrow(/no image/);
    expect(() => parseCreateBody('x')).toThrow(InvalidParameterError);
    expect(() => parseCreateBody({ Image: 'b', NetworkingConfig: [] })).toThrow(/NetworkingConfig must be an object/);
  });
  it('merges the image config under the request as docker does', () => {
    const m = mergeImageConfig({ Env: ['B=2', 'A=9'] }, { Cmd: ['sh'], Env: ['A=1', 'PATH=/bin'], WorkingDir: '/w' }, 'img');
    expect(m.Cmd).toEqual(['sh']);
    expect(m.Env).toEqual(['A=9', 'PATH=/bin', 'B=2']);
    expect(m.WorkingDir).toBe('/w');
    expect(mergeImageConfig({ Entrypoint: ['/e'] }, { Cmd: ['sh'] }, 'img').Cmd).toBeNull();
    expect(() => mergeImageConfig({}, {}, 'img')).toThrow(/no command specified/);
  });
});

describe('errors and paths', () => {
  it('maps error codes onto docker statuses', () => {
    expect(httpStatusFor(new NoSuchContainerError('x'))).toBe(404);
    expect(httpStatusFor(new NotModifiedError('x'))).toBe(304);
    expect(httpStatusFor({ code: 'InUse' })).toBe(409);
    expect(httpStatusFor({ code: 'InvalidName' })).toBe(400);
    expect(httpStatusFor({ code: 'NO_SUCH_IMAGE' })).toBe(404);
    expect(httpStatusFor(new Error('boom'))).toBe(500);
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
