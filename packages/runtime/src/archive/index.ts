export { ContainerFiles, type ArchiveTarget, type ContainerPathStat, type ExtractOptions, type RootHandle } from './files.js';
export { encodePathStat, goFileMode, goTime } from './path-stat.js';
export { viewMounts, type ViewOpened, type ViewTask } from './view.js';
