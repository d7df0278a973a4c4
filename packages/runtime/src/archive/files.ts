import { fstatSync, readlinkSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Syscalls } from '@berth/syscall';
import { ArchiveError } from '../errors.js';
import type { MountPoint } from '../runtime-types.js';
import { GO_MODE_SYMLINK, pathStat, type ContainerPathStat } from './path-stat.js';
import { closeTarget, dockerAbsPath, pathError, resolveTarget, type ResolvedTarget } from './request-path.js';
import { openInRoot, resolveInScope, splitPath, under } from './scope.js';
import { archiveTree } from './tar-out.js';
import { extractInto, type ExtractOptions } from './tar-in.js';

/** The container an archive request is about, as its record says. */
export interface ArchiveTarget {
  id: string;
  /** The image the container was made from (its layers, for a stopped container's view). */
  imageId: string;
  /** The name or id the client used: Docker's messages repeat it. */
  ref: string;
  mounts: readonly MountPoint[];
  readonlyRootfs: boolean;
  /** Its init, when it runs: the files are then seen through /proc/<pid>/root. */
  running?: { pid: number; startTime: number };
}

/** An fd on a container's root and how to let it go. */
export interface RootHandle {
  fd: number;
  release(): void;
}

export type { ContainerPathStat, ExtractOptions };

/**
 * `docker cp` and the archive endpoints on one container root: stat,
 * archive out, extract in. Paths are resolved as moby's ResolvePath does,
 * but every lookup is openat2(RESOLVE_IN_ROOT) from an fd on the root.
 */
export class ContainerFiles {
  constructor(private readonly sys: Syscalls, private readonly openRoot: (t: ArchiveTarget) => Promise<RootHandle>) {}

  async stat(t: ArchiveTarget, path: string): Promise<ContainerPathStat> {
    return this.withTarget(t, path, (root, target) => this.statOf(root, target, t, path));
  }

  /** The stat and a tar stream of the path; the root is held until the stream ends. */
  async archive(t: ArchiveTarget, path: string): Promise<{ stat: ContainerPathStat; stream: Readable }> {
    const root = await this.openRoot(t);
    let target: ResolvedTarget | undefined;
    try {
      target = resolveTarget(this.sys, root.fd, path, t.ref);
      const stat = this.statOf(root, target, t, path);
      const held = target;
      let linkname: string | undefined;
      if (held.base !== undefined && (stat.mode & GO_MODE_SYMLINK) !== 0) {
        try {
          linkname = readlinkSync(under(held.dirFd, held.base));
        } catch (error) {
          throw pathError(error, path, t.ref);
        }
      }
      const stream = archiveTree(this.sys, {
        fd: held.fd, name: held.name, ...(held.base !== undefined ? { parent: { fd: held.dirFd, name: held.base } } : {}),
        ...(linkname !== undefined ? { linkname } : {}),
      }, () => {
        closeTarget(this.sys, held);
        root.release();
      });
      return { stat, stream };
    } catch (error) {
      if (target) closeTarget(this.sys, target);
      root.release();
      throw error;
    }
  }

  /**
   * `docker export`: the container's root filesystem (image and writable
   * layer, without its volumes and binds, as Docker exports it) as a tar,
   * from a throwaway view even when the container runs.
   */
  async exportRootfs(t: ArchiveTarget): Promise<Readable> {
    const { running: _running, ...stopped } = t;
    const root = await this.openRoot({ ...stopped, mounts: [] });
    try {
      return archiveTree(this.sys, { fd: root.fd, name: '', contentsOnly: true }, () => root.release());
    } catch (error) {
      root.release();
      throw error;
    }
  }

  /** `PUT /containers/{id}/archive`: extract into an existing directory. */
  async extract(t: ArchiveTarget, path: string, input: NodeJS.ReadableStream, opts: ExtractOptions): Promise<void> {
    if (path === '') throw new ArchiveError('InvalidParameter', 'bad parameter: pathcannot be empty');
    const root = await this.openRoot(t);
    try {
      let destination: string;
      let fd: number;
      try {
        destination = resolveInScope(this.sys, root.fd, dockerAbsPath(path));
        fd = openInRoot(this.sys, root.fd, splitPath(destination));
      } catch (error) {
        throw pathError(error, path, t.ref);
      }
      try {
        if (!fstatSync(fd).isDirectory()) throw new ArchiveError('InvalidParameter', 'extraction point is not a directory');
      } finally {
        this.sys.close(fd);
      }
      const mount = mountAt(t.mounts, destination);
      if (mount && !mount.RW) throw new ArchiveError('Conflict', 'mounted volume is marked read-only');
      if (!mount && t.readonlyRootfs) throw new ArchiveError('Conflict', 'container rootfs is marked read-only');
      await extractInto(this.sys, root.fd, destination, input, opts);
    } finally {
      root.release();
    }
  }

  private statOf(root: RootHandle, target: ResolvedTarget, t: ArchiveTarget, path: string): ContainerPathStat {
    const st = fstatSync(target.fd, { bigint: true });
    let linkTarget = '';
    try {
      if (st.isSymbolicLink() && target.base !== undefined) linkTarget = resolveInScope(this.sys, root.fd, `${target.resolvedDir}/${target.base}`);
    } catch (error) {
      throw pathError(error, path, t.ref);
    }
    return pathStat(target.name, st, linkTarget);
  }

  private async withTarget<T>(t: ArchiveTarget, path: string, fn: (root: RootHandle, target: ResolvedTarget) => T): Promise<T> {
    const root = await this.openRoot(t);
    try {
      const target = resolveTarget(this.sys, root.fd, path, t.ref);
      try {
        return fn(root, target);
      } finally {
        closeTarget(this.sys, target);
      }
    } finally {
      root.release();
    }
  }
}

/** The volume or bind whose destination holds `path` (the deepest one), as moby's checkIfPathIsInAVolume. */
function mountAt(mounts: readonly MountPoint[], path: string): MountPoint | undefined {
  let best: MountPoint | undefined;
  for (const m of mounts) {
    if (m.Type === 'tmpfs') continue;
    const d = m.Destination.replace(/\/+$/, '');
    if (path === d || path.startsWith(`${d}/`) || d === '') {
      if (!best || d.length > best.Destination.length) best = m;
    }
  }
  return best;
}

