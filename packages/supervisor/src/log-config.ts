/**
 * `HostConfig.LogConfig` (`--log-driver`, `--log-opt`): berth writes
 * Docker's json-file format and honours its rotation options.
 */
import { ramInBytes } from '@berth/runtime/spec';
import { InvalidParameterError } from './errors.js';

export interface LogRotation {
  /** Rotate once the current file would grow past this many bytes; undefined: never. */
  maxSize?: number;
  /** Files kept, the current one included (Docker's default 1: rotation truncates). */
  maxFiles: number;
}

export const NO_ROTATION: LogRotation = { maxFiles: 1 };

/** The json-file options Docker accepts; berth acts on max-size and max-file and accepts the rest. */
const JSON_FILE_OPTIONS = new Set(['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']);

export function parseLogConfig(raw: unknown): LogRotation {
  if (raw === undefined || raw === null) return NO_ROTATION;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidParameterError('invalid JSON in request body: HostConfig.LogConfig must be an object');
  }
  const { Type: type = '', Config: config = {} } = raw as { Type?: unknown; Config?: unknown };
  if (type !== '' && type !== 'json-file') {
    throw new InvalidParameterError(
      `berth writes container logs with the json-file driver only, not "${String(type)}": leave --log-driver out or use json-file`,
    );
  }
  if (config === null) return NO_ROTATION;
  if (typeof config !== 'object' || Array.isArray(config) || Object.values(config).some((v) => typeof v !== 'string')) {
    throw new InvalidParameterError('invalid JSON in request body: HostConfig.LogConfig.Config must map option names to strings');
  }
  const opts = config as Record<string, string>;
  for (const key of Object.keys(opts)) {
    if (!JSON_FILE_OPTIONS.has(key)) throw new InvalidParameterError(`unknown log opt '${key}' for json-file log driver`);
  }
  let maxSize: number | undefined;
  if (opts['max-size'] !== undefined && opts['max-size'] !== '-1') {
    maxSize = ramInBytes(opts['max-size']);
    if (maxSize === undefined) throw new InvalidParameterError(`invalid log opt max-size '${opts['max-size']}': use a size such as 10m`);
    if (maxSize <= 0) throw new InvalidParameterError('max-size must be a positive number');
  }
  let maxFiles = 1;
  if (opts['max-file'] !== undefined) {
    maxFiles = Number(opts['max-file']);
    if (!/^-?\d+$/.test(opts['max-file'])) throw new InvalidParameterError(`invalid log opt max-file '${opts['max-file']}': use a whole number`);
    if (maxFiles < 1) throw new InvalidParameterError('max-file cannot be less than 1');
    if (maxFiles > 1 && maxSize === undefined) throw new InvalidParameterError('max-file can only be set with max-size');
  }
  return maxSize === undefined ? NO_ROTATION : { maxSize, maxFiles };
}
