import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { treeSize } from '@berth/volumes';
import type { ContainerRecord } from './container-store.js';
import type { ImageService, ImageView, VolumeService, VolumeView } from './engine.js';

interface VolumeUsageEntry {
  name: string;
  size: number;
  refCount: number;
}

/** `VolumeService.usage()` is typed loosely (the store is loaded at run time): keep only well-formed entries. */
function usageEntries(raw: unknown): Map<string, VolumeUsageEntry> {
  const out = new Map<string, VolumeUsageEntry>();
  if (!Array.isArray(raw)) return out;
  for (const e of raw as unknown[]) {
    const u = e as Partial<VolumeUsageEntry> | null;
    if (typeof u?.name === 'string' && typeof u.size === 'number' && typeof u.refCount === 'number') {
      out.set(u.name, { name: u.name, size: u.size, refCount: u.refCount });
    }
  }
  return out;
}

/**
 * Docker's `UsageData` for each volume: the size from the volume store's
 * walk, the reference count from its references (containers that hold the
 * volume), and, for a store that keeps no references, the containers whose
 * mounts name it. -1 means "not computed", as in Docker.
 */
export async function volumesWithUsage(volumes: VolumeService, containers: ContainerRecord[]): Promise<VolumeView[]> {
  const list = await volumes.list({});
  const usage = usageEntries(volumes.usage?.());
  const mountRefs = (name: string): number => containers.filter((c) => c.mounts.some((m) => m.type === 'volume' && m.source === name)).length;
  return list.map((v) => {
    const u = usage.get(v.Name);
    let refCount = u?.refCount;
    if (refCount === undefined && volumes.usedBy) {
      try { refCount = volumes.usedBy(v.Name).length; } catch { /* removed meanwhile */ }
    }
    return { ...v, UsageData: { Size: u?.size ?? -1, RefCount: refCount ?? mountRefs(v.Name) } };
  });
}

/** Bytes of all layers, shared layers once (the store knows); the sum of image sizes otherwise. */
export function layersSize(images: ImageService, list: ImageView[]): number {
  const du = images.diskUsage?.() as { layers?: { bytes?: unknown } } | undefined;
  const bytes = du?.layers?.bytes;
  return typeof bytes === 'number' ? bytes : list.reduce((n, i) => n + i.size, 0);
}

/**
 * A container's writable layer: the overlay upper directory the layer store
 * keeps at `<root>/containers/<id>/diff`. -1 when there is none (never started,
 * or another layout).
 */
export function containerSizes(root: string, c: ContainerRecord, imageSize: number | undefined): { SizeRw: number; SizeRootFs: number } {
  const upper = join(root, 'containers', c.id, 'diff');
  let exists = true;
  try { lstatSync(upper); } catch { exists = false; }
  if (!exists) return { SizeRw: -1, SizeRootFs: imageSize ?? -1 };
  const rw = treeSize(upper);
  return { SizeRw: rw, SizeRootFs: rw + (imageSize ?? 0) };
}
