import { describe, expect, it } from 'vitest';
import { BindPropagationError } from '../../src/errors.js';
import { checkBindPropagation, parseMountPropagation } from '../../src/propagation.js';

const MOUNTINFO = [
  '22 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  '30 22 0:40 / /srv rw,relatime shared:5 - tmpfs tmpfs rw',
  '31 30 0:41 / /srv/slave rw,relatime master:5 - tmpfs tmpfs rw',
  '32 22 0:42 / /mnt/with\\040space rw,relatime shared:7 - tmpfs tmpfs rw',
].join('\n');

describe('bind propagation needs a shared (or slave) source mount, as in Docker', () => {
  it('reads propagation from mountinfo, unescaping mount points', () => {
    expect(parseMountPropagation(MOUNTINFO).map((m) => [m.mountPoint, m.shared, m.slave])).toEqual([
      ['/', false, false], ['/srv', true, false], ['/srv/slave', false, true], ['/mnt/with space', true, false],
    ]);
  });

  it('accepts shared binds on shared mounts and slave binds on shared or slave mounts', () => {
    expect(() => checkBindPropagation('/srv/data', 'rshared', MOUNTINFO)).not.toThrow();
    expect(() => checkBindPropagation('/srv/slave/x', 'rslave', MOUNTINFO)).not.toThrow();
    expect(() => checkBindPropagation('/mnt/with space/d', 'shared', MOUNTINFO)).not.toThrow();
    expect(() => checkBindPropagation('/home/u', 'rprivate', MOUNTINFO)).not.toThrow();
  });

  it('refuses with Docker\'s messages otherwise', () => {
    expect(() => checkBindPropagation('/home/u', 'shared', MOUNTINFO)).toThrow(
      new BindPropagationError('path /home/u is mounted on / but it is not a shared mount', '/home/u'));
    expect(() => checkBindPropagation('/srv/slave/x', 'rshared', MOUNTINFO)).toThrow('path /srv/slave/x is mounted on /srv/slave but it is not a shared mount');
    expect(() => checkBindPropagation('/home/u', 'rslave', MOUNTINFO)).toThrow('path /home/u is mounted on / but it is not a shared or slave mount');
  });
});
