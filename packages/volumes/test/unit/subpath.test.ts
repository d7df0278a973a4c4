import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LinuxSyscalls } from '@berth/syscall';
import { resolveSubpath } from '../../src/subpath.js';
import { isVolumeError } from '../../src/errors.js';

const sys = new LinuxSyscalls();

describe('resolveSubpath (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)', () => {
  let base: string;
  let data: string;
  let outside: string;
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-subpath-'));
    data = path.join(base, 'volumes', 'v', '_data');
    outside = path.join(base, 'outside');
    fs.mkdirSync(path.join(data, 'a', 'b'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret'), 'secret');
    // planted by a container: links that lead out of the volume
    fs.symlinkSync(outside, path.join(data, 'escape'));
    fs.symlinkSync('../../../../outside', path.join(data, 'a', 'rel-escape'));
    fs.symlinkSync('/', path.join(data, 'root'));
    fs.symlinkSync('b', path.join(data, 'a', 'inner'));
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it('resolves a directory inside the volume to an fd on it', () => {
    const r = resolveSubpath(data, 'a/b', sys);
    try {
      expect(r.path).toBe(path.join(data, 'a/b'));
      expect(fs.realpathSync(`/proc/self/fd/${r.fd}`)).toBe(fs.realpathSync(path.join(data, 'a/b')));
    } finally {
      sys.close(r.fd);
    }
  });

  it('refuses every symlink, in or out, and `..` or absolute paths', () => {
    for (const bad of ['escape', 'escape/secret', 'a/rel-escape', 'a/rel-escape/secret', 'root/etc', 'a/inner', '../outside', '/etc', 'a/../../outside']) {
      let err: unknown;
      try {
        const r = resolveSubpath(data, bad, sys);
        sys.close(r.fd);
      } catch (e) {
        err = e;
      }
      expect(isVolumeError(err, 'InvalidSubpath'), bad).toBe(true);
      expect((err as Error).message).toBe('subpath must be a relative path within the volume');
    }
    expect(fs.readFileSync(path.join(outside, 'secret'), 'utf8')).toBe('secret');
  });

  it('says clearly when the subpath does not exist', () => {
    expect(() => resolveSubpath(data, 'missing/dir', sys)).toThrow(/failed to resolve volume subpath "missing\/dir": it does not exist/);
  });
});
