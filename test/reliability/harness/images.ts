/**
 * Image archives for the suite: the busybox image of tools/busybox-image.mjs
 * (and variants with their own layer, so loading one stages and commits a
 * new layer), written once per test root.
 */
import { join } from 'node:path';
// @ts-expect-error -- plain ESM tool without types
import { writeBusyboxImage } from '../../../tools/busybox-image.mjs';

export const BUSYBOX_TAG = 'busybox:latest';

export interface ImageOptions {
  tag?: string;
  volumes?: string[];
  symlinks?: Record<string, string>;
  omit?: string[];
}

export async function busyboxArchive(path: string, opts: ImageOptions = {}): Promise<string> {
  await (writeBusyboxImage as (p: string, o: ImageOptions) => Promise<unknown>)(path, { tag: BUSYBOX_TAG, ...opts });
  return path;
}

/** `variant:N` images: busybox plus one marker symlink, so each has a layer of its own. */
export async function variantArchives(dir: string, count: number): Promise<{ tag: string; path: string }[]> {
  const out: { tag: string; path: string }[] = [];
  for (let i = 0; i < count; i++) {
    const tag = `variant:${i}`;
    out.push({ tag, path: await busyboxArchive(join(dir, `variant-${i}.tar`), { tag, symlinks: { [`variant-${i}`]: 'bin' } }) });
  }
  return out;
}
