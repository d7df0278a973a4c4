import { describe, expect, it } from 'vitest';
import { apiVersionBefore, splitVersion } from '../../src/api/router.js';
import { DEFAULT_DETACH_KEYS, DetachWatcher, detachKeyBytes } from '../../src/detach-keys.js';

describe("detach keys (moby's term.ToBytes and escape proxy)", () => {
  it('reads single characters, ctrl-@ .. ctrl-_ and DEL; anything else is an unknown character', () => {
    expect([...detachKeyBytes('ctrl-p,ctrl-q')]).toEqual([...DEFAULT_DETACH_KEYS]);
    expect([...detachKeyBytes('ctrl-@,ctrl-a,ctrl-z,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')]).toEqual([0, 1, 26, 27, 28, 29, 30, 31]);
    expect([...detachKeyBytes('a,X,DEL')]).toEqual([97, 88, 127]);
  });

  it("refuses what ToBytes refuses, with its text", () => {
    for (const [keys, bad] of [['ctrl-foo', 'ctrl-foo'], ['a,,b', ''], ['ctrl-A', 'ctrl-A'], ['é', 'é'], ['del', 'del']] as const) {
      expect(() => detachKeyBytes(keys), keys).toThrow(`Unknown character: '${bad}'`);
    }
  });

  it('holds back a beginning of the sequence, gives it back when it breaks off, and detaches across chunks', () => {
    const w = new DetachWatcher(DEFAULT_DETACH_KEYS);
    expect(w.feed(Buffer.from('ab\x10'))).toEqual({ pass: Buffer.from('ab'), detach: false });
    expect(w.feed(Buffer.from('c'))).toEqual({ pass: Buffer.from('\x10c'), detach: false });
    expect(w.feed(Buffer.from('x\x10'))).toEqual({ pass: Buffer.from('x'), detach: false });
    expect(w.feed(Buffer.from('\x11after'))).toEqual({ pass: Buffer.alloc(0), detach: true });
    expect(new DetachWatcher(Buffer.from([0x18])).feed(Buffer.from('echo a\r\x18'))).toEqual({ pass: Buffer.from('echo a\r'), detach: true });
  });
});

describe('API versions from the path', () => {
  it('splits /vX.Y off; unversioned is the current version', () => {
    expect(splitVersion('/v1.41/volumes/prune')).toEqual({ path: '/volumes/prune', apiVersion: '1.41' });
    expect(splitVersion('/volumes/prune').path).toBe('/volumes/prune');
    expect(apiVersionBefore(splitVersion('/volumes/prune').apiVersion, '1.42')).toBe(false);
  });

  it('compares numerically, part by part, as moby versions.LessThan', () => {
    expect(apiVersionBefore('1.41', '1.42')).toBe(true);
    expect(apiVersionBefore('1.9', '1.42')).toBe(true);
    expect(apiVersionBefore('1.42', '1.42')).toBe(false);
    expect(apiVersionBefore('1.100', '1.42')).toBe(false);
    expect(apiVersionBefore('2', '1.42')).toBe(false);
  });
});
