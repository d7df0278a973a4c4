import { randomBytes } from 'node:crypto';
import { InvalidVolumeNameError } from './errors.js';

/** moby's `names.RestrictedNameChars` and the local driver's volume name rule. */
export const RESTRICTED_NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const ANONYMOUS_NAME = /^[0-9a-f]{64}$/;

/** The label moby puts on anonymous volumes (so a plain prune removes them once unused). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** File names berth keeps beside the volume directories; they can never be volumes. */
const RESERVED = new Set(['metadata.db', 'metadata.db-wal', 'metadata.db-shm', 'metadata.db-journal']);

/** Go's %q for the names that reach this message (printable ASCII and the odd escape). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Throws Docker's exact messages for names the local driver refuses. */
export function validateVolumeName(name: string): void {
  if (name.length === 1) {
    throw new InvalidVolumeNameError(name, 'volume name is too short, names should be at least two alphanumeric characters');
  }
  if (!VOLUME_NAME.test(name)) {
    throw new InvalidVolumeNameError(
      name,
      `${goQuote(name)} includes invalid characters for a local volume name, only ${goQuote(RESTRICTED_NAME_CHARS)} are allowed. ` +
        'If you intended to pass a host directory, use absolute path',
    );
  }
  if (RESERVED.has(name)) {
    throw new InvalidVolumeNameError(name, `invalid volume name "${name}": the name is reserved for berth's metadata; choose another name`);
  }
}

/** 64 random hex characters, as moby's `stringid.GenerateRandomID`. */
export function anonymousVolumeName(): string {
  return randomBytes(32).toString('hex');
}

export function looksAnonymous(name: string): boolean {
  return ANONYMOUS_NAME.test(name);
}
