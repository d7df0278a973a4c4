import { describe, expect, it } from 'vitest';
import { humanDuration, timeAgo } from '../../src/format/duration.js';
import { imageRows, splitReference } from '../../src/format/images.js';
import { humanSize, parseMemory } from '../../src/format/size.js';
import { formatJsonLines, formatTable } from '../../src/format/table.js';
import { ellipsis, psCommand, shortId } from '../../src/format/text.js';

describe('tables', () => {
  it('pads every column but the last to the widest cell + 3, at least 10 (tabwriter 10,1,3)', () => {
    expect(formatTable(['DRIVER', 'VOLUME NAME'], [['local', 'data']])).toBe('DRIVER    VOLUME NAME\nlocal     data\n');
    expect(formatTable(['A', 'B', 'C'], [['a-very-long-cell', 'x', 'last']])).toBe(
      'A                  B         C\na-very-long-cell   x         last\n',
    );
  });
  it('escapes <, > and & in --format json as Go does', () => {
    expect(formatJsonLines([{ Digest: '<none>', A: 'x&y' }])).toBe('{"Digest":"\\u003cnone\\u003e","A":"x\\u0026y"}\n');
  });
  it('prints the header alone for an empty list', () => {
    expect(formatTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], [])).toBe(
      'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n',
    );
  });
});

describe('human sizes (go-units)', () => {
  it('uses decimal units and %.3g for images, %.4g for HumanSize', () => {
    expect(humanSize(4_262_754, 3)).toBe('4.26MB');
    expect(humanSize(0)).toBe('0B');
    expect(humanSize(999)).toBe('999B');
    expect(humanSize(1000)).toBe('1kB');
    expect(humanSize(12_345)).toBe('12.35kB');
    expect(humanSize(1_500_000_000, 3)).toBe('1.5GB');
    expect(humanSize(999_999, 3)).toBe('1e+03kB');
  });
  it('parses --memory with binary units', () => {
    expect(parseMemory('512m')).toBe(512 * 1024 * 1024);
    expect(parseMemory('1g')).toBe(1024 ** 3);
    expect(parseMemory('64k')).toBe(65536);
    expect(parseMemory('100')).toBe(100);
    expect(parseMemory('2MB')).toBe(2 * 1024 * 1024);
    expect(() => parseMemory('lots')).toThrow(/invalid size 'lots'/);
  });
});

describe('durations (go-units HumanDuration)', () => {
  it.each([
    [500, 'Less than a second'],
    [1000, '1 second'],
    [5000, '5 seconds'],
    [61_000, 'About a minute'],
    [125_000, '2 minutes'],
    [3_600_000, 'About an hour'],
    [5 * 3_600_000, '5 hours'],
    [3 * 86_400_000, '3 days'],
    [20 * 86_400_000, '2 weeks'],
    [90 * 86_400_000, '3 months'],
    [800 * 86_400_000, '2 years'],
  ])('%d ms is "%s"', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
  it('says how long ago a unix timestamp was', () => {
    expect(timeAgo(1000, 1_005_000 + 999)).toBe('5 seconds ago');
  });
});

describe('text', () => {
  it('truncates COMMAND to 20 characters with … and then quotes it', () => {
    expect(psCommand('sh -c echo hello world forever')).toBe('"sh -c echo hello wo…"');
    expect(psCommand('true')).toBe('"true"');
    expect(psCommand('a'.repeat(20))).toBe(`"${'a'.repeat(20)}"`);
    expect(ellipsis('a'.repeat(21), 20)).toBe(`${'a'.repeat(19)}…`);
  });
  it('shortens ids to 12 and drops sha256:', () => {
    expect(shortId('sha256:0123456789abcdef')).toBe('0123456789ab');
    expect(shortId('0123456789abcdef')).toBe('0123456789ab');
  });
  it('lists images one row per tag', () => {
    expect(splitReference('localhost:5000/busybox')).toEqual(['localhost:5000/busybox', 'latest']);
    expect(splitReference('busybox:1.36')).toEqual(['busybox', '1.36']);
    const rows = imageRows({ Id: 'sha256:abcdef0123456789', RepoTags: ['busybox:latest', 'bb:1'], Created: 0, Size: 4_262_754 }, 14 * 86_400_000);
    expect(rows).toEqual([
      ['busybox', 'latest', 'abcdef012345', '2 weeks ago', '4.26MB'],
      ['bb', '1', 'abcdef012345', '2 weeks ago', '4.26MB'],
    ]);
    expect(imageRows({ Id: 'x', RepoTags: [] }, 0)[0]?.slice(0, 2)).toEqual(['<none>', '<none>']);
  });
});

describe('stats table (the docker CLI\'s arithmetic)', () => {
  it('CPU % from the difference to precpu times the online CPUs; memory less total_inactive_file; sizes as docker prints them', async () => {
    const { statsRow, bytesSize } = await import('../../src/format/stats.js');
    const row = statsRow({
      id: 'a'.repeat(64), name: '/web',
      cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 18_000_000_000 },
      memory_stats: { usage: 9039872, limit: 67108864, stats: { total_inactive_file: 8388608 } },
      pids_stats: { current: 3 },
      blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 4096 }, { op: 'Write', value: 1_500_000 }, { op: 'Total', value: 1_504_096 }] },
      networks: { eth0: { rx_bytes: 736, tx_bytes: 0 }, eth1: { rx_bytes: 1000, tx_bytes: 20 } },
    });
    expect(row).toEqual(['aaaaaaaaaaaa', 'web', '100.00%', '636KiB / 64MiB', '0.97%', '1.74kB / 20B', '4.1kB / 1.5MB', '3']);
    expect(bytesSize(25276157952)).toBe('23.54GiB');
    expect(statsRow({ id: 'b'.repeat(64), name: '/stopped' })).toEqual(['bbbbbbbbbbbb', 'stopped', '0.00%', '0B / 0B', '0.00%', '0B / 0B', '0B / 0B', '0']);
  });
});
