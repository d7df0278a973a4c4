import { describe, expect, it } from 'vitest';
import { parseMountinfo, parseProcStat, processStartTime, readProcStat } from '../../src/proc.js';

describe('the one /proc/PID/stat reader', () => {
  it('reads the fields after the last ")" (a command name may hold spaces and parentheses)', () => {
    const stat = parseProcStat('42 (we ird) name)) S 1 42 42 34816 42 4194560 1 0 0 0 7 3 0 0 20 0 1 0 123456 0 0');
    expect(stat).toMatchObject({ pid: 42, comm: 'we ird) name)', state: 'S', ppid: 1, pgrp: 42, session: 42, ttyNr: 34816, utime: 7, stime: 3, startTime: 123456 });
  });

  it('knows this process, and no process for a pid that is not there', () => {
    expect(readProcStat(process.pid)?.pid).toBe(process.pid);
    expect(processStartTime(process.pid)).toBe(readProcStat(process.pid)?.startTime);
    expect(processStartTime(0)).toBeUndefined();
    expect(processStartTime(2 ** 22 + 1)).toBeUndefined();
  });
});

describe('the one mountinfo parser', () => {
  it('splits the fields around "-", keeps the optional ones, and undoes the octal escapes', () => {
    const [root, bind] = parseMountinfo([
      '26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
      '40 26 0:37 /sub /mnt/with\\040space rw,nosuid master:7 propagate_from:1 - cgroup2 cgroup2 rw',
      'garbage',
    ].join('\n'));
    expect(root).toEqual({
      id: 26, parent: 1, root: '/', mountPoint: '/', options: 'rw,relatime', optional: ['shared:1'], fstype: 'ext4', source: '/dev/vda',
      superOptions: 'rw,discard',
    });
    expect(bind).toMatchObject({ root: '/sub', mountPoint: '/mnt/with space', optional: ['master:7', 'propagate_from:1'], fstype: 'cgroup2' });
  });
});
