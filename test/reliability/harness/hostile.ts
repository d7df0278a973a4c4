/**
 * Hostile layer entries. Every escape is aimed at a sentinel directory
 * inside the test's own temp dir, never at a real host path: absolute paths
 * name the sentinel directly, and `..` escapes climb tens of levels (to `/`,
 * whatever the extraction directory's depth) and then descend into it.
 */
import type { FixtureEntry } from '../../../packages/layers/test/fixtures.js';

/** Enough `../` to reach `/` from any extraction directory a test can make. */
export const DEEP = '../'.repeat(40);

export interface HostileCase {
  name: string;
  entries: FixtureEntry[];
  /** Entry names an error may name (the first hostile one in the archive). */
  culprits: string[];
  /**
   * Tar semantics allow a harmless outcome: a later entry replaces the
   * symlink in the layer (it is never followed), so import may succeed.
   */
  mayContain?: boolean;
}

/** `sentinel` is an absolute directory; `victim` a file in it that must never change. */
export function hostileCases(sentinel: string): HostileCase[] {
  const rel = sentinel.replace(/^\/+/, '');
  const ok: FixtureEntry[] = [{ name: 'etc/', type: 'directory' }, { name: 'etc/hostname', body: 'fine\n' }];
  return [
    {
      name: '`..` entry (deep relative escape creating a file)',
      entries: [...ok, { name: `${DEEP}${rel}/escape-dotdot`, body: 'escaped' }],
      culprits: [`${DEEP}${rel}/escape-dotdot`],
    },
    {
      name: '`..` inside a path (a/../../..)',
      entries: [...ok, { name: `etc/${DEEP}${rel}/victim`, body: 'overwritten' }],
      culprits: [`etc/${DEEP}${rel}/victim`],
    },
    {
      name: 'absolute path entry',
      entries: [...ok, { name: `${sentinel}/escape-absolute`, body: 'escaped' }],
      culprits: [`${sentinel}/escape-absolute`, `/${rel}/escape-absolute`, `${rel}/escape-absolute`],
    },
    {
      name: 'write through an absolute symlink to a directory outside',
      entries: [...ok, { name: 'out', type: 'symlink', linkname: sentinel }, { name: 'out/escape-symlink', body: 'escaped' }],
      culprits: ['out', 'out/escape-symlink'],
    },
    {
      name: 'write through a deep relative symlink to a directory outside',
      entries: [...ok, { name: 'etc/out', type: 'symlink', linkname: `${DEEP}${rel}` }, { name: 'etc/out/escape-symlink', body: 'escaped' }],
      culprits: ['etc/out', 'etc/out/escape-symlink'],
    },
    {
      name: 'overwrite a file outside through a symlink to it',
      entries: [...ok, { name: 'v', type: 'symlink', linkname: `${sentinel}/victim` }, { name: 'v/', type: 'directory' }, { name: 'v/x', body: 'escaped' }],
      culprits: ['v', 'v/', 'v/x'],
      mayContain: true,
    },
    {
      name: 'hardlink to a file outside the layer (deep relative)',
      entries: [...ok, { name: 'hl', type: 'link', linkname: `${DEEP}${rel}/victim` }],
      culprits: ['hl'],
    },
    {
      name: 'hardlink to a file outside the layer (absolute)',
      entries: [...ok, { name: 'hl', type: 'link', linkname: `${sentinel}/victim` }],
      culprits: ['hl'],
    },
  ];
}
