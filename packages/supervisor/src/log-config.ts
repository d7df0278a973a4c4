/**
 * `HostConfig.LogConfig` (`--log-driver`, `--log-opt`): berth keeps Docker's
 * json-file log (with its rotation options) or, with the `none` driver,
 * nothing. Options are checked as moby's json-file driver checks them, with
 * its messages; berth checks all of them at create (Docker checks values
 * when the driver starts).
 */
import { InvalidParameterError } from './errors.js';

export interface LogConfig {
  /** `none`: no log is kept, and `docker logs` answers as Docker's none driver does. */
  driver: 'json-file' | 'none';
  /** Rotate once the current file would grow past this many bytes; undefined: never. */
  maxSize?: number;
  /** Files kept, the current one included (Docker's default 1: rotation truncates). */
  maxFiles: number;
}

export const DEFAULT_LOG_CONFIG: LogConfig = { driver: 'json-file', maxFiles: 1 };

/** The options moby's json-file driver knows (its ValidateLogOpt). */
const JSON_FILE_OPTIONS = new Set(['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']);
/** Known to json-file, not implemented by berth: refused rather than ignored. */
const NOT_IMPLEMENTED = new Set(['labels', 'labels-regex', 'env', 'env-regex', 'tag']);

/** Errors of the driver's start, which Docker prefixes so. */
const initFailed = (message: string): InvalidParameterError => new InvalidParameterError(`failed to initialize logging driver: ${message}`);

/** docker/go-units FromHumanSize: decimal multiples (1k = 1000), an optional `i` and `b`. */
export function fromHumanSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (!m) return undefined;
  const value = Number.parseFloat(m[1]!);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 }[unit] ?? 1;
  return Math.trunc(value * mult);
}

/** Go's strconv.Atoi, with its message. */
function atoi(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw initFailed(`strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  return Number(text);
}

/** Go's strconv.ParseBool, with its message. */
function parseBool(text: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw initFailed(`strconv.ParseBool: parsing ${JSON.stringify(text)}: invalid syntax`);
}

export function parseLogConfig(raw: unknown): LogConfig {
  if (raw === undefined || raw === null) return DEFAULT_LOG_CONFIG;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidParameterError('invalid JSON in request body: HostConfig.LogConfig must be an object');
  }
  const { Type: type = '', Config: config = {} } = raw as { Type?: unknown; Config?: unknown };
  if (typeof type !== 'string') throw new InvalidParameterError('invalid JSON in request body: HostConfig.LogConfig.Type must be a string');
  if (config !== null && (typeof config !== 'object' || Array.isArray(config) || Object.values(config).some((v) => typeof v !== 'string'))) {
    throw new InvalidParameterError('invalid JSON in request body: HostConfig.LogConfig.Config must map option names to strings');
  }
  const opts = (config ?? {}) as Record<string, string>;
  if (type === 'none') {
    // The docker CLI's check; dockerd would drop the options without a word.
    if (Object.keys(opts).length > 0) throw new InvalidParameterError('invalid logging opts for driver none');
    return { driver: 'none', maxFiles: 1 };
  }
  if (type !== '' && type !== 'json-file') {
    throw new InvalidParameterError(`error looking up logging plugin ${type}: plugin ${JSON.stringify(type)} not found`);
  }
  for (const key of Object.keys(opts)) {
    if (!JSON_FILE_OPTIONS.has(key)) throw new InvalidParameterError(`unknown log opt '${key}' for json-file log driver`);
    if (NOT_IMPLEMENTED.has(key)) throw new InvalidParameterError(`berth's json-file log does not implement log opt '${key}': leave it out`);
  }
  let maxSize: number | undefined;
  if (opts['max-size'] !== undefined) {
    maxSize = fromHumanSize(opts['max-size']);
    if (maxSize === undefined) throw initFailed(`invalid size: '${opts['max-size']}'`);
    if (maxSize <= 0) throw initFailed('max-size must be a positive number');
  }
  let maxFiles = 1;
  if (opts['max-file'] !== undefined) {
    maxFiles = atoi(opts['max-file']);
    if (maxFiles < 1) throw initFailed('max-file cannot be less than 1');
  }
  if (opts['compress'] !== undefined && parseBool(opts['compress'])) {
    if (maxFiles === 1 || maxSize === undefined) throw initFailed('compress cannot be true when max-file is less than 2 or max-size is not set');
    throw new InvalidParameterError("berth's json-file log does not compress rotated files: leave compress out or set it to false");
  }
  // Without max-size nothing rotates, so max-file alone changes nothing (Docker accepts it too).
  return maxSize === undefined ? DEFAULT_LOG_CONFIG : { driver: 'json-file', maxSize, maxFiles };
}
