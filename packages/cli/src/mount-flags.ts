/**
 * `-v`, `--mount` and `--tmpfs` turned into Docker API fields the way the
 * docker CLI does it, by the one parser berth has: `@berth/runtime/spec`
 * (a light entry point: pure data, no native modules to load). Its errors,
 * Docker's own messages, become usage errors (exit 125).
 */
import { cliToApiFields, type ApiMount } from '@berth/runtime/spec';
import { UsageError } from './errors.js';

export type { ApiMount };

export interface MountFields {
  Binds: string[];
  Volumes: Record<string, object>;
  Mounts: ApiMount[];
  Tmpfs: Record<string, string>;
}

export type MountConverter = (flags: { volume: readonly string[]; mount: readonly string[]; tmpfs: readonly string[] }, cwd: string) => MountFields;

export const convertMountFlags: MountConverter = (flags, cwd) => {
  try {
    const fields = cliToApiFields(flags, { cwd });
    return { Binds: fields.HostConfig.Binds, Volumes: fields.Config.Volumes, Mounts: fields.HostConfig.Mounts, Tmpfs: fields.HostConfig.Tmpfs };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
};
