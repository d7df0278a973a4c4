import type { BigIntStats } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { goFileMode, goTime } from '../../src/archive/path-stat.js';
import { dockerAbsPath } from '../../src/archive/request-path.js';

describe('archive request paths and stats (moby ResolvePath, Go FileMode and time)', () => {
  it('cleans paths as filepath.Join("/", p) and keeps a trailing / or /.', () => {
    expect(dockerAbsPath('/etc')).toBe('/etc');
    expect(dockerAbsPath('etc/')).toBe('/etc/');
    expect(dockerAbsPath('/etc/.')).toBe('/etc/.');
    expect(dockerAbsPath('.')).toBe('/.');
    expect(dockerAbsPath('/')).toBe('/');
    expect(dockerAbsPath('../../etc/../etc/group')).toBe('/etc/group');
    expect(dockerAbsPath('//x//')).toBe('/x/');
  });

  const stat = (kind: 'dir' | 'file' | 'link' | 'chr', mode: number): BigIntStats => ({
    mode: BigInt(mode),
    isDirectory: () => kind === 'dir', isSymbolicLink: () => kind === 'link', isBlockDevice: () => false,
    isCharacterDevice: () => kind === 'chr', isFIFO: () => false, isSocket: () => false,
  }) as unknown as BigIntStats;

  it("encodes modes as Go's os.FileMode (what the docker CLI decodes)", () => {
    expect(goFileMode(stat('dir', 0o40755))).toBe(2147484141); // dockerd's answer for /etc
    expect(goFileMode(stat('link', 0o120777))).toBe(134218239); // and for /bin/sh
    expect(goFileMode(stat('file', 0o104755))).toBe(2 ** 23 + 0o755); // setuid
    expect(goFileMode(stat('chr', 0o20666))).toBe(2 ** 26 + 2 ** 21 + 0o666);
  });

  it('writes times as Go marshals them', () => {
    expect(goTime(0n)).toBe('1970-01-01T00:00:00Z');
    expect(goTime(1_796_580_156_848_353_358n)).toBe('2026-12-06T18:02:36.848353358Z');
    expect(goTime(1_796_580_156_500_000_000n)).toBe('2026-12-06T18:02:36.5Z');
  });
});
