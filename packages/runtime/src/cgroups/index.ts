export { Cgroups, type CgroupHandle, type CgroupsOptions } from './cgroups.js';
export { CgroupError, type CgroupErrorCode } from './errors.js';
export { sharesToWeight, v1Writes, v2Writes, type CgroupController, type CgroupLimits, type CgroupWrite } from './limits.js';
export { cgroupDir, cgroupMounts, parseProcCgroup, type CgroupMounts, type V1Hierarchy } from './layout.js';
export { encodeBpf, v2DeviceProgram, type BpfInsn } from './device-program.js';
export { freeze, isFrozen, thaw } from './freezer.js';
export { updateLimits } from './update.js';
export {
  blkioEntries, flatKeyed, memTotalBytes, networkStats, systemCpu, v1Sample, v2Sample,
  type BlkioEntry, type BlkioStats, type CgroupFileReader, type CgroupSample, type CpuStats, type CpuUsage, type HostFacts,
  type MemoryStats, type NetworkStats,
} from './stats.js';
export { containerSample, type ContainerSample } from './sample.js';
export { readRecordedV1Parents, recordV1Parents } from './parents-record.js';
