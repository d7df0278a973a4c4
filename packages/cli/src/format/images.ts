/** `images` rows: one per tag, `<none>` for untagged images, as docker lists them. */
import { goTimestamp, timeAgo } from './duration.js';
import { humanSize } from './size.js';
import { shortId } from './text.js';

export interface ImageSummary {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: number;
  Size?: number;
  Containers?: number;
}

export const IMAGE_HEADER = ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'];

/** `busybox:latest` → [busybox, latest]; `host:5000/a` → [host:5000/a, latest]. */
export function splitReference(ref: string): [string, string] {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, 'latest'];
}

function tagsOf(image: ImageSummary): [string, string][] {
  const tags = (image.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  return tags.length > 0 ? tags.map(splitReference) : [['<none>', '<none>']];
}

export function imageRows(image: ImageSummary, now: number = Date.now()): string[][] {
  return tagsOf(image).map(([repo, tag]) => [repo, tag, shortId(image.Id), timeAgo(image.Created ?? 0, now), humanSize(image.Size ?? 0, 3)]);
}

/** docker's `images --format json` objects. */
export function imageJson(image: ImageSummary, now: number = Date.now()): Record<string, string>[] {
  return tagsOf(image).map(([repo, tag]) => ({
    Containers: image.Containers === undefined || image.Containers < 0 ? 'N/A' : String(image.Containers),
    CreatedAt: goTimestamp(image.Created ?? 0),
    CreatedSince: timeAgo(image.Created ?? 0, now),
    Digest: '<none>',
    ID: shortId(image.Id),
    Repository: repo,
    SharedSize: 'N/A',
    Size: humanSize(image.Size ?? 0, 3),
    Tag: tag,
    UniqueSize: 'N/A',
    VirtualSize: humanSize(image.Size ?? 0),
  }));
}
