import { describe, expect, it } from 'vitest';
import { defaultHostConfig } from '@berth/runtime';
import { mergeUpdate, parseUpdateBody } from '../../src/update.js';
import { containerRecord } from '../helpers/records.js';

const ID = 'ab' + '0'.repeat(62);
const rec = (host: Partial<ReturnType<typeof defaultHostConfig>> = {}) =>
  containerRecord({ id: ID, name: 'u', hostConfig: { ...defaultHostConfig(), ...host } });
/** What `docker update --pids-limit 10` sends: every resource at zero, the one flag set. */
const CLI_ZEROS = {
  CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: null, CpuPeriod: 0, CpuQuota: 0,
  CpusetCpus: '', CpusetMems: '', Devices: null, KernelMemory: 0, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null,
  OomKillDisable: null, PidsLimit: null, Ulimits: null, CpuCount: 0, IOMaximumIOps: 0, RestartPolicy: { Name: '', MaximumRetryCount: 0 },
};

describe('docker update: the body merged into the stored HostConfig as moby merges it', () => {
  it("accepts the docker CLI's body of zeros and changes only what is set", () => {
    const { hostConfig, live } = mergeUpdate(rec({ CpuShares: 100 }), parseUpdateBody({ ...CLI_ZEROS, PidsLimit: 10 }));
    expect(hostConfig).toMatchObject({ PidsLimit: 10, CpuShares: 100, Memory: 0 });
    expect(live).toEqual({ pidsMax: 10 });
  });

  it('refuses an unimplemented field by name unless it is zero', () => {
    expect(() => parseUpdateBody({ ...CLI_ZEROS, KernelMemory: 1 << 24 })).toThrow('berth does not implement KernelMemory');
    expect(() => parseUpdateBody({ BlkioWeight: 300 })).toThrow('berth does not implement BlkioWeight');
    expect(() => parseUpdateBody({ Memory: '64m' })).toThrow('Memory must be an integer');
  });

  it("keeps dockerd's memory rules: swap must follow a larger memory, the stored default swap counts", () => {
    expect(() => mergeUpdate(rec(), { Memory: 64 << 20 })).toThrow(`Cannot update container ${ID}: Memory limit should be smaller`);
    // Created with -m 64m: dockerd stored a swap of 128m, so 100m fits.
    const grown = mergeUpdate(rec({ Memory: 64 << 20 }), { Memory: 100 << 20 });
    expect(grown.hostConfig).toMatchObject({ Memory: 100 << 20, MemorySwap: 128 << 20 });
    expect(grown.live).toEqual({ memoryBytes: 100 << 20, memorySwapBytes: 128 << 20 });
    expect(() => mergeUpdate(rec(), { Memory: 1 << 20, MemorySwap: 2 << 20 })).toThrow('Minimum memory limit allowed is 6MB');
    expect(() => mergeUpdate(rec({ Memory: 64 << 20 }), { MemoryReservation: 128 << 20 }))
      .toThrow('Minimum memory limit can not be less than memory reservation limit');
  });

  it('refuses NanoCpus against a stored period or quota, and the reverse', () => {
    expect(() => mergeUpdate(rec({ CpuQuota: 50000 }), { NanoCpus: 1e9 })).toThrow('Nano CPUs cannot be updated as CPU Quota has already been set');
    expect(() => mergeUpdate(rec({ NanoCpus: 1e9 }), { CpuPeriod: 50000 })).toThrow('CPU Period cannot be updated as NanoCPUs has already been set');
    expect(mergeUpdate(rec(), { NanoCpus: 5e8 }, 2).live).toEqual({ cpuPeriodUs: 100000, cpuQuotaUs: 50000 });
  });

  it('cpuset lists: stored and written live, checked with dockerd\'s messages against the host CPUs', () => {
    const set = mergeUpdate(rec(), { CpusetCpus: '0-1', CpusetMems: '0' }, 2);
    expect(set.hostConfig).toMatchObject({ CpusetCpus: '0-1', CpusetMems: '0' });
    expect(set.live).toEqual({ cpusetCpus: '0-1', cpusetMems: '0' });
    expect(() => mergeUpdate(rec(), { CpusetCpus: '0-x' }, 2)).toThrow('Invalid value 0-x for cpuset cpus');
    expect(() => mergeUpdate(rec(), { CpusetCpus: '3' }, 2)).toThrow('Requested CPUs are not available - requested 3, available: 0-1');
  });

  it('pids 0 or -1 is unlimited (stored null, pids.max "max"); the restart policy is checked and refused with AutoRemove', () => {
    const unlimited = mergeUpdate(rec({ PidsLimit: 50 }), { PidsLimit: -1 });
    expect(unlimited.hostConfig.PidsLimit).toBeNull();
    expect(unlimited.live).toEqual({ pidsMax: 0 });
    expect(mergeUpdate(rec(), { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } }).hostConfig.RestartPolicy)
      .toEqual({ Name: 'on-failure', MaximumRetryCount: 2 });
    expect(() => mergeUpdate(rec(), { RestartPolicy: { Name: 'bogus' } })).toThrow("unknown policy 'bogus'");
    expect(() => mergeUpdate(rec({ AutoRemove: true }), { RestartPolicy: { Name: 'always' } }))
      .toThrow('Restart policy cannot be updated because AutoRemove is enabled for the container');
  });
});
