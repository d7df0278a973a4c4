import { defaultConfig } from '@berth/runtime';
import { describe, expect, it } from 'vitest';
import { applyChanges, mergeCommitConfig } from '../../src/commit.js';
import { goDuration, healthSuffix, resolveHealthcheck, validateHealthcheck } from '../../src/health.js';

describe('docker commit config', () => {
  it('merges the request over the container config as moby does', () => {
    const merged = mergeCommitConfig(
      { ...defaultConfig('busybox'), Cmd: ['sh'], Env: ['A=1', 'B=2'], Labels: { a: '1' }, Hostname: 'not-kept' },
      { Env: ['B=3', 'C=4'], Labels: { b: '2' } },
    );
    expect(merged).toMatchObject({ Cmd: ['sh'], Env: ['A=1', 'B=3', 'C=4'], Labels: { a: '1', b: '2' } });
    expect(merged).not.toHaveProperty('Hostname');
  });

  it('applies --change instructions in both forms', () => {
    const out = applyChanges({ Cmd: ['sh'], WorkingDir: '/a' }, [
      'CMD echo hi', 'ENV X=1 Y="two words"', 'ENV Z three', 'EXPOSE 80 53/udp 1000-1001', 'LABEL k=v',
      'USER nobody', 'VOLUME ["/data", "/logs"]', 'WORKDIR b', 'ENTRYPOINT ["tini"]',
    ]);
    expect(out).toEqual({
      WorkingDir: '/a/b', Env: ['X=1', 'Y=two words', 'Z=three'],
      ExposedPorts: { '80/tcp': {}, '53/udp': {}, '1000/tcp': {}, '1001/tcp': {} }, Labels: { k: 'v' },
      User: 'nobody', Volumes: { '/data': {}, '/logs': {} }, Entrypoint: ['tini'],
    });
    expect(applyChanges({}, ['CMD ["a","b"]']).Cmd).toEqual(['a', 'b']);
    expect(applyChanges({}, ['CMD a b']).Cmd).toEqual(['/bin/sh', '-c', 'a b']);
  });

  it("refuses what moby refuses, with moby's messages", () => {
    expect(() => applyChanges({}, ['RUN make'])).toThrow('run is not a valid change command');
    expect(() => applyChanges({}, ['FROM x'])).toThrow('from is not a valid change command');
    expect(() => applyChanges({}, ['ENV'])).toThrow('ENV requires at least one argument');
    expect(() => applyChanges({}, ['EXPOSE abc'])).toThrow('Invalid containerPort: abc');
    expect(() => applyChanges({}, ['WORKDIR'])).toThrow('WORKDIR requires exactly one argument');
  });
});

describe('healthcheck resolution', () => {
  it("applies Docker's defaults and the CMD/CMD-SHELL forms", () => {
    expect(resolveHealthcheck({ Healthcheck: { Test: ['CMD-SHELL', 'curl -f localhost'] } }, undefined)).toEqual({
      command: ['/bin/sh', '-c', 'curl -f localhost'], interval: 30_000, timeout: 30_000, retries: 3, startPeriod: 0, startInterval: 5_000,
    });
    expect(resolveHealthcheck({ Healthcheck: { Test: ['CMD', 'true'], Interval: 2e9, Retries: 5 } }, undefined))
      .toMatchObject({ command: ['true'], interval: 2_000, retries: 5 });
  });

  it("inherits the image's test and durations; NONE turns it off", () => {
    const image = { Healthcheck: { Test: ['CMD', 'check'], Interval: 1e9 } };
    expect(resolveHealthcheck({}, image)).toMatchObject({ command: ['check'], interval: 1_000 });
    expect(resolveHealthcheck({ Healthcheck: { Timeout: 5e9 } }, image)).toMatchObject({ command: ['check'], interval: 1_000, timeout: 5_000 });
    expect(resolveHealthcheck({ Healthcheck: { Test: ['NONE'] } }, image)).toBeUndefined();
    expect(resolveHealthcheck({}, undefined)).toBeUndefined();
    expect(() => resolveHealthcheck({ Healthcheck: { Test: ['SHELL', 'x'] } }, undefined)).toThrow(/unknown healthcheck type/);
  });

  it("refuses at create what moby refuses, with its messages", () => {
    expect(() => validateHealthcheck({ Healthcheck: { Test: ['CMD', 'x'], Interval: 1000 } })).toThrow('Interval in Healthcheck cannot be less than 1ms');
    expect(() => validateHealthcheck({ Healthcheck: { Test: ['CMD', 'x'], Retries: -1 } })).toThrow('Retries in Healthcheck cannot be negative');
    expect(() => validateHealthcheck({ Healthcheck: { Test: ['CMD', 'x'], StartPeriod: 5 } })).toThrow('StartPeriod in Healthcheck cannot be less than 1ms');
    expect(() => validateHealthcheck({ Healthcheck: { Test: 'x' } })).toThrow(/Test must be a list of strings/);
    expect(() => validateHealthcheck({ Healthcheck: { Test: ['CMD', 'x'], Interval: 1e6 } })).not.toThrow();
  });

  it("formats durations and ps suffixes as Docker does", () => {
    expect(goDuration(300)).toBe('300ms');
    expect(goDuration(30_000)).toBe('30s');
    expect(goDuration(90_000)).toBe('1m30s');
    expect(goDuration(60_000)).toBe('1m0s');
    expect(healthSuffix({ Status: 'healthy', FailingStreak: 0, Log: [] })).toBe(' (healthy)');
    expect(healthSuffix({ Status: 'starting', FailingStreak: 0, Log: [] })).toBe(' (health: starting)');
    expect(healthSuffix(undefined)).toBe('');
  });
});
