import { describe, expect, it } from 'vitest';
import { chainIds, normalizeTag } from '../../src/refs.js';
import { sha } from '../fixtures.js';

describe('chain ids', () => {
  it('follow docker: the first is the diffID, then sha256(parent + " " + diffID)', () => {
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    expect(chainIds([a, b])).toEqual(['a'.repeat(64), sha(`${a} ${b}`)]);
  });

  it('differ for the same diffID on a different parent', () => {
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    const c = `sha256:${'c'.repeat(64)}`;
    expect(chainIds([a, c])[1]).not.toBe(chainIds([b, c])[1]);
  });
});

describe('tags', () => {
  it.each([
    ['busybox', 'busybox:latest'],
    ['busybox:1.36', 'busybox:1.36'],
    ['docker.io/library/busybox:1', 'busybox:1'],
    ['docker.io/me/app', 'me/app:latest'],
    ['localhost:5000/app:v2', 'localhost:5000/app:v2'],
  ])('%s is shown as %s', (ref, short) => {
    expect(normalizeTag(ref)).toBe(short);
  });

  it('refuses invalid names', () => {
    expect(() => normalizeTag('Upper/Case')).toThrow(/failed to parse image reference/);
    expect(() => normalizeTag('a@sha256:00')).toThrow(/digest/);
  });
});
