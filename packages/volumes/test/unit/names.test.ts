import { describe, expect, it } from 'vitest';
import { validateVolumeName, anonymousVolumeName, looksAnonymous } from '../../src/names.js';
import { validateDriverOptions, parseMountOptions, mountPlanFor } from '../../src/driver-options.js';
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_BIND, MS_REC, MS_SHARED } from '@berth/syscall';
import { checkSubpath } from '../../src/subpath.js';
import { isVolumeError } from '../../src/errors.js';

describe('volume names (Docker rule and messages)', () => {
  it('accepts Docker-valid names', () => {
    for (const n of ['ab', 'a1', 'my_vol.1-x', '0z', 'A.B']) expect(() => validateVolumeName(n)).not.toThrow();
  });
  it('has its own message for one character', () => {
    expect(() => validateVolumeName('a')).toThrow(
      'volume name is too short, names should be at least two alphanumeric characters',
    );
  });
  it('refuses invalid characters with the verbatim message', () => {
    for (const bad of ['x/y', '../etc', '.hidden', '-x', '_x', 'a b', 'a:b', '..', '/abs', 'a\\b', 'äb']) {
      let err: unknown;
      try {
        validateVolumeName(bad);
      } catch (e) {
        err = e;
      }
      expect(isVolumeError(err, 'InvalidName'), bad).toBe(true);
      expect((err as Error).message).toBe(
        `${JSON.stringify(bad)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    }
  });
  it('refuses the metadata file names so a volume cannot shadow the database', () => {
    expect(() => validateVolumeName('metadata.db')).toThrow(/reserved/);
  });
  it('makes anonymous names of 64 hex characters', () => {
    const n = anonymousVolumeName();
    expect(n).toMatch(/^[0-9a-f]{64}$/);
    expect(looksAnonymous(n)).toBe(true);
    expect(anonymousVolumeName()).not.toBe(n);
  });
});

describe('local driver options', () => {
  it('refuses unknown options with Docker message', () => {
    expect(() => validateDriverOptions({ foo: 'x' })).toThrow('invalid option: "foo"');
  });
  it('needs type and device together, and both for o', () => {
    expect(() => validateDriverOptions({ o: 'size=1m' })).toThrow('missing required option: "device"');
    expect(() => validateDriverOptions({ o: 'size=1m', device: 'tmpfs' })).toThrow('missing required option: "type"');
    expect(() => validateDriverOptions({ type: 'tmpfs' })).toThrow('missing required option: "device"');
    expect(() => validateDriverOptions({ device: 'tmpfs' })).toThrow('missing required option: "type"');
    expect(() => validateDriverOptions({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m' })).not.toThrow();
    expect(() => validateDriverOptions({})).not.toThrow();
  });
  it('refuses size without quota support', () => {
    expect(() => validateDriverOptions({ size: '1g' })).toThrow('quota size requested but no quota support');
  });
  it('splits o into flags and data as moby/sys/mount does', () => {
    expect(parseMountOptions('size=1m,ro,nosuid,nodev,noexec,mode=0755,uid=1000')).toEqual({
      flags: MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
      data: 'size=1m,mode=0755,uid=1000',
      propagation: 0,
    });
    expect(parseMountOptions('ro,rw').flags).toBe(0);
    expect(parseMountOptions('rbind,rshared')).toEqual({ flags: MS_BIND | MS_REC, data: null, propagation: MS_SHARED | MS_REC });
    expect(mountPlanFor({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m' })).toEqual({
      source: 'tmpfs', fstype: 'tmpfs', flags: 0, data: 'size=1m', propagation: 0,
    });
    expect(mountPlanFor({})).toBeUndefined();
  });
});

describe('subpath lexical check', () => {
  it('refuses absolute and climbing subpaths with Docker message', () => {
    for (const bad of ['/etc', '..', '../x', 'a/../../x', '']) {
      expect(() => checkSubpath(bad)).toThrow('subpath must be a relative path within the volume');
    }
    expect(checkSubpath('a/./b/../c')).toBe('a/c');
  });
});
