/**
 * Where a root's containers went on v1, kept for the next supervisor of the
 * same root. On v1 a container's cgroup is under the supervisor's own cgroup
 * (design.md); a supervisor started from another one (another service,
 * shell or job) would otherwise look for, and clean up, a different berth/
 * than the last one filled, and never see what a killed one left there.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** The parents recorded in `file` (hierarchy → cgroup path), or undefined when there is no usable record. */
export function readRecordedV1Parents(file: string): Record<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // none yet, or unreadable: this process's own cgroups, as before any record
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') out[key] = value;
  return out;
}

/** Records `parents` in `file` (temporary name, then rename) when they differ from what it holds. */
export function recordV1Parents(file: string, parents: Readonly<Record<string, string>>, recorded: Readonly<Record<string, string>> | undefined): void {
  const next = JSON.stringify(parents);
  if (Object.keys(parents).length === 0 || (recorded !== undefined && JSON.stringify(recorded) === next)) return;
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${next}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
