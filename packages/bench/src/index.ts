/**
 * @berth/bench: the launch-latency benchmark suite (`npm run bench`). The
 * statistics and writers are exported for reuse and tests.
 */
export { run } from './main.js';
export { parseBenchArgs, USAGE, type BenchArgs } from './args.js';
export { percentile, summarize, median, leastSquares, pairedRatio, type Summary, type LinearFit, type PairedRatio } from './stats.js';
export { renderMarkdown, renderTables } from './markdown.js';
export { renderSvg, boxOf, logTicks, escapeXml, type Box } from './svg.js';
export { checkTargets } from './targets.js';
export { runSeccompCost } from './cases/seccomp.js';
export { ociConfig, bindMounts, DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS, type OciMount } from './oci-config.js';
export { PEER_NAMES, APT_PACKAGES, type PeerName } from './peers.js';
export type * from './report-types.js';
export { BenchError, UsageError, LaunchFailedError, MountLeakError } from './errors.js';
