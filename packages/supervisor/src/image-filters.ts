/**
 * `GET /images/json` (`docker images`): which images, and which of their
 * tags, a request selects, with dockerd 20.10's semantics (moby's
 * daemon/images/images.go).
 */
import type { ImageView } from './engine.js';
import { InvalidParameterError } from './errors.js';
import type { FilterKey, Filters } from './filters.js';

export type ImageFilters = Filters<FilterKey<'GET /images/json'>>;

/**
 * Go's `path.Match` pattern as a regular expression: `*` is any run of
 * characters but `/`, `?` one such character, `[...]` a class (`[^...]`
 * negated), `\` escapes. A malformed pattern is Go's `syntax error in pattern`.
 */
export function goGlob(pattern: string): RegExp {
  const bad = (): never => { throw new InvalidParameterError(`invalid filter 'reference=${pattern}': syntax error in pattern`); };
  const esc = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\') {
      if (i + 1 >= pattern.length) bad();
      out += esc(pattern[++i]!);
    } else if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (pattern[j] === '^') { cls += '^'; j++; }
      let members = 0;
      for (; j < pattern.length && (pattern[j] !== ']' || members === 0); j++) {
        let ch = pattern[j]!;
        if (ch === '\\') { if (++j >= pattern.length) bad(); ch = pattern[j]!; }
        if (ch === '-' && members > 0 && pattern[j + 1] !== ']') { cls += '-'; continue; }
        if (ch === ']' && members === 0) bad();
        cls += esc(ch);
        members++;
      }
      if (j >= pattern.length || members === 0) bad();
      // Go's classes never match the separator.
      out += `(?!/)[${cls}]`;
      i = j;
    } else out += esc(c);
  }
  return new RegExp(`^${out}$`);
}

/** moby's reference.FamiliarMatch: the pattern matches `name:tag` or just `name`. */
function familiarMatch(glob: RegExp, tag: string): boolean {
  if (glob.test(tag)) return true;
  const slash = tag.lastIndexOf('/');
  const colon = tag.lastIndexOf(':');
  return colon > slash && glob.test(tag.slice(0, colon));
}

export interface SelectedImage {
  image: ImageView;
  /** The tags `RepoTags` shows: with a `reference` filter, only those it matched. */
  tags: string[];
}

export interface ImageListContext {
  images: readonly ImageView[];
  /** The image a `before`/`since` value names; throws No such image. */
  inspect(ref: string): Promise<ImageView>;
}

export async function selectImages(f: ImageFilters, ctx: ImageListContext): Promise<SelectedImage[]> {
  // dockerd 20.10 reads images' dangling as true or false only.
  const dangling = f.contains('dangling') ? f.bool('dangling', false, { truthy: ['true'], falsy: ['false'] }) : undefined;
  const globs = f.get('reference').map(goGlob);
  const createdOf = async (key: 'before' | 'since'): Promise<number | undefined> => {
    let t: number | undefined;
    for (const ref of f.get(key)) t = Date.parse((await ctx.inspect(ref)).created);
    return t;
  };
  const before = await createdOf('before');
  const since = await createdOf('since');

  const out: SelectedImage[] = [];
  for (const image of ctx.images) {
    const created = Date.parse(image.created);
    if (before !== undefined && !(created < before)) continue;
    if (since !== undefined && !(created > since)) continue;
    if (!f.matchKVList('label', image.config.Labels)) continue;
    const tags = globs.length === 0 ? image.tags : image.tags.filter((t) => globs.some((g) => familiarMatch(g, t)));
    if (image.tags.length === 0) {
      // A dangling image: never one a reference names, and not wanted by dangling=false.
      if (dangling === false || f.contains('reference')) continue;
    } else {
      if (dangling === true) continue;
      if (tags.length === 0) continue;
    }
    out.push({ image, tags });
  }
  return out;
}
