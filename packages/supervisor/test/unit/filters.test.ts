import { containerRecord } from '../helpers/records.js';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Filters, goDurationSeconds, goRegExp, pruneUntil } from '../../src/filters.js';
import { selectContainers, type ContainerListContext } from '../../src/container-filters.js';
import type { ContainerRecord } from '../../src/container-store.js';
import { eventMatcher, type DockerEvent } from '../../src/events.js';
import { goGlob, selectImages } from '../../src/image-filters.js';
import type { ImageView } from '../../src/engine.js';
import { volumeListRequest, volumePruneRequest } from '../../src/api/volume-routes.js';
import type { VolumeView } from '../../src/engine.js';
import { httpStatusFor, NoSuchContainerError } from '../../src/errors.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

async function rejected(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => { throw new Error('expected a rejection'); }, (err: unknown) => err);
}

describe('Filters: moby\'s filters.Args', () => {
  it('reads the CLI\'s and dockerode\'s encodings alike, whatever the keys and values', () => {
    const record = fc.dictionary(fc.string({ minLength: 1 }), fc.uniqueArray(fc.string(), { maxLength: 4 }), { maxKeys: 4 });
    fc.assert(fc.property(record, (r) => {
      const cli = Object.fromEntries(Object.entries(r).map(([k, vs]) => [k, Object.fromEntries(vs.map((v) => [v, true]))]));
      const a = Filters.parse(JSON.stringify(r));
      const b = Filters.parse(JSON.stringify(cli));
      expect(b.keys().sort()).toEqual(a.keys().sort());
      for (const k of a.keys()) expect(b.get(k).sort()).toEqual(a.get(k).sort());
    }));
    expect(Filters.parse(null).keys()).toEqual([]);
    expect(Filters.parse('').keys()).toEqual([]);
  });

  it('refuses what is not a filter with a 400', () => {
    for (const raw of ['{nope', '[1]', '"x"', '{"a":1}', '{"a":[1]}', '{"a":{"b":"yes"}}']) {
      expect(httpStatusFor(thrown(() => Filters.parse(raw))), raw).toBe(400);
    }
  });

  it('refuses keys the endpoint does not know with dockerd\'s text, and names the ones berth cannot answer yet', () => {
    const bogus = thrown(() => Filters.parse('{"bogus":["x"]}').accept('GET /containers/json'));
    expect([httpStatusFor(bogus), (bogus as Error).message]).toEqual([400, "Invalid filter 'bogus'"]);
    const health = thrown(() => Filters.parse('{"health":["healthy"]}').accept('GET /containers/json'));
    expect([httpStatusFor(health), (health as Error).message]).toEqual([501, "berth does not implement the 'health' filter of GET /containers/json yet"]);
    expect(() => Filters.parse('{"label":["a"]}').accept('GET /volumes')).not.toThrow();
    expect(() => Filters.parse('{"reference":["a"]}').accept('GET /volumes')).toThrow("Invalid filter 'reference'");
  });

  it('matches label values all together (AND), other values any (OR)', () => {
    const labels = fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('1', '2'));
    const wanted = fc.array(fc.oneof(fc.constantFrom('a', 'b', 'c', 'd'), fc.constantFrom('a=1', 'b=2', 'c=1', 'a=2')), { minLength: 1, maxLength: 4 });
    fc.assert(fc.property(labels, wanted, (l, w) => {
      const all = Filters.of({ label: w }).matchKVList('label', l);
      expect(all).toBe(w.every((v) => Filters.of({ label: [v] }).matchKVList('label', l)));
    }));
    fc.assert(fc.property(fc.array(fc.constantFrom('x', 'y', 'z'), { minLength: 1 }), fc.constantFrom('x', 'y', 'z'), (values, source) => {
      expect(Filters.of({ k: values }).exactMatch('k', source)).toBe(values.includes(source));
    }));
    // No label at all never matches a label filter; no filter matches everything.
    expect(Filters.of({ label: ['a'] }).matchKVList('label', {})).toBe(false);
    expect(Filters.of<string>({}).matchKVList('label', {})).toBe(true);
  });

  it('Match is an unanchored Go regexp or the exact value; FuzzyMatch a prefix', () => {
    const f = Filters.of({ name: ['^web', 'db$', '(?i)CACHE', '['] });
    expect(['web-1', 'main-db', 'Cache', '['].map((n) => f.match('name', n))).toEqual([true, true, true, true]);
    expect(['xweb', 'db-1'].map((n) => f.match('name', n))).toEqual([false, false]);
    expect(Filters.of({ id: ['abc'] }).fuzzyMatch('id', 'abcdef')).toBe(true);
    expect(Filters.of({ id: ['bcd'] }).fuzzyMatch('id', 'abcdef')).toBe(false);
    // Patterns that would make JavaScript's engine backtrack for ages are refused, not run.
    expect(httpStatusFor(thrown(() => goRegExp('(a+)+$')))).toBe(400);
    expect(httpStatusFor(thrown(() => goRegExp('(a)\\1')))).toBe(400);
  });

  it('reads booleans as moby\'s GetBoolOrDefault', () => {
    expect(Filters.of({ all: ['1'] }).bool('all', false)).toBe(true);
    expect(Filters.of({ all: ['false'] }).bool('all', true)).toBe(false);
    expect(Filters.of<string>({}).bool('all', true)).toBe(true);
    expect((thrown(() => Filters.of({ all: ['maybe'] }).bool('all', false)) as Error).message).toBe("Invalid filter 'all=[maybe]'");
    expect(httpStatusFor(thrown(() => Filters.of({ all: ['true', 'false'] }).bool('all', false)))).toBe(400);
  });
});

/** Newest first, as the store lists. */
const CONTAINERS: ContainerRecord[] = [
  containerRecord({ id: 'e'.repeat(64), name: 'compose_web_run_1', state: 'running', startedAt: 't', config: { Labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 'web', 'com.docker.compose.oneoff': 'True' } } }),
  containerRecord({ id: 'd'.repeat(64), name: 'compose_db_1', state: 'running', startedAt: 't', config: { Labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 'db', 'com.docker.compose.oneoff': 'False' } } }),
  containerRecord({ id: 'c'.repeat(64), name: 'compose_web_1', state: 'running', startedAt: 't', config: { Labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 'web', 'com.docker.compose.oneoff': 'False' } } }),
  containerRecord({ id: 'b'.repeat(64), name: 'done', state: 'exited', exitCode: 3, startedAt: 't', imageId: 'sha256:other',
    mounts: [{ type: 'volume', source: 'data', destination: '/data', readOnly: false, propagation: 'rprivate', recursive: 'enabled', createSource: false, nocopy: false, anonymous: false, mode: 'z' }] }),
  containerRecord({ id: 'a'.repeat(64), name: 'fresh', state: 'created' }),
].map((c) => ({ ...c, imageId: c.imageId === 'sha256:other' ? c.imageId : 'sha256:bb', created: '' }));

const CONTEXT: ContainerListContext = {
  containers: CONTAINERS,
  isRestarting: () => false,
  resolve: (ref) => {
    const c = CONTAINERS.find((x) => x.name === ref || x.id.startsWith(ref));
    if (!c) throw new NoSuchContainerError(ref);
    return c;
  },
  imageId: async (ref) => (ref === 'busybox' ? 'sha256:bb' : ref === 'other' ? 'sha256:other' : undefined),
};

async function ps(filters: Record<string, string[]>, all = true, limit?: number): Promise<string[]> {
  const f = Filters.of(filters).accept('GET /containers/json');
  return (await selectContainers({ all, limit, filters: f }, CONTEXT)).map((c) => c.name);
}

describe('GET /containers/json filters, as dockerd 20.10', () => {
  it('ANDs two label filters (docker-compose finds one service of one project so)', async () => {
    expect(await ps({ label: ['com.docker.compose.project=p', 'com.docker.compose.service=web', 'com.docker.compose.oneoff=False'] })).toEqual(['compose_web_1']);
    expect(await ps({ label: ['com.docker.compose.project=p', 'com.docker.compose.service=web'] })).toEqual(['compose_web_run_1', 'compose_web_1']);
    expect(await ps({ label: ['com.docker.compose.project'] })).toEqual(['compose_web_run_1', 'compose_db_1', 'compose_web_1']);
  });

  it('ANDs different keys and ORs the values of one', async () => {
    const keys = fc.constantFrom<Record<string, string[]>>(
      { name: ['web'] }, { name: ['db', 'done'] }, { status: ['running'] }, { status: ['exited', 'created'] }, { id: ['a', 'b'] },
      { label: ['com.docker.compose.service=web'] }, { ancestor: ['busybox'] }, { volume: ['/data'] }, { exited: ['3'] },
    );
    await fc.assert(fc.asyncProperty(keys, keys, async (x, y) => {
      fc.pre(Object.keys(x)[0] !== Object.keys(y)[0]);
      const both = await ps({ ...x, ...y });
      const left = await ps(x);
      const right = await ps(y);
      expect(both).toEqual(left.filter((n) => right.includes(n)));
    }));
    expect(await ps({ status: ['exited', 'created'] })).toEqual(['done', 'fresh']);
  });

  it('matches name as a regexp on /name or name, id as a prefix', async () => {
    expect(await ps({ name: ['^compose_web'] })).toEqual(['compose_web_run_1', 'compose_web_1']);
    expect(await ps({ name: ['^/fresh$'] })).toEqual(['fresh']);
    expect(await ps({ name: ['web_1'] })).toEqual(['compose_web_1']);
    expect(await ps({ name: ['web'] })).toEqual(['compose_web_run_1', 'compose_web_1']);
    expect(await ps({ id: ['bbbb'] })).toEqual(['done']);
    expect(await ps({ id: ['bbbbx'] })).toEqual([]);
  });

  it('lists running containers only unless all, a status filter or a limit', async () => {
    expect(await ps({}, false)).toEqual(['compose_web_run_1', 'compose_db_1', 'compose_web_1']);
    expect(await ps({ status: ['created'] }, false)).toEqual(['fresh']);
    expect(await ps({}, false, 4)).toEqual(['compose_web_run_1', 'compose_db_1', 'compose_web_1', 'done']);
    // before/since do not list stopped containers by themselves.
    expect(await ps({ before: ['compose_db_1'] }, false)).toEqual(['compose_web_1']);
    expect(await ps({ before: ['compose_db_1'] })).toEqual(['compose_web_1', 'done', 'fresh']);
    expect(await ps({ since: ['compose_web_1'] })).toEqual(['compose_web_run_1', 'compose_db_1']);
  });

  it('answers exited, ancestor, volume, isolation and is-task', async () => {
    expect(await ps({ exited: ['3', '4'] })).toEqual(['done']);
    // A created container has exit code 0 but never exited.
    expect(await ps({ exited: ['0'] })).toEqual([]);
    expect(await ps({ ancestor: ['other'] })).toEqual(['done']);
    expect(await ps({ ancestor: ['nosuch'] })).toEqual([]);
    expect(await ps({ volume: ['data'] })).toEqual(['done']);
    expect(await ps({ volume: ['/data'] })).toEqual(['done']);
    expect(await ps({ isolation: ['default'], name: ['fresh'] })).toEqual(['fresh']);
    expect(await ps({ isolation: ['hyperv'] })).toEqual([]);
    expect(await ps({ 'is-task': ['true'] })).toEqual([]);
    expect((await ps({ 'is-task': ['false'] })).length).toBe(5);
  });

  it('refuses bad values with dockerd\'s texts', async () => {
    const status = await rejected(ps({ status: ['bad'] }));
    expect([httpStatusFor(status), (status as Error).message]).toEqual([400, "Invalid filter 'status=bad'"]);
    const exited = await rejected(ps({ exited: ['x'] }));
    expect([httpStatusFor(exited), (exited as Error).message]).toEqual([400, 'strconv.Atoi: parsing "x": invalid syntax']);
    const before = await rejected(ps({ before: ['nosuch'] }));
    expect([httpStatusFor(before), (before as Error).message]).toEqual([404, 'no such container nosuch']);
    expect((await rejected(ps({ 'is-task': ['x'] })) as Error).message).toBe("Invalid filter 'is-task=[x]'");
  });
});

function event(type: DockerEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): DockerEvent {
  return { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: 0, timeNano: 0 };
}

describe('GET /events filters, as dockerd', () => {
  const events = [
    event('container', 'start', 'c'.repeat(64), { name: 'web', image: 'busybox:latest', a: '1', b: '2' }),
    event('container', 'exec_create: sh -c true', 'c'.repeat(64), { name: 'web', image: 'busybox:latest' }),
    event('volume', 'create', 'data', { driver: 'local' }),
    event('image', 'tag', 'sha256:bb', { name: 'busybox:1.36' }),
  ];
  const pick = (filters: Record<string, string[]>): number[] => {
    const m = eventMatcher(Filters.of(filters).accept('GET /events'));
    return events.flatMap((e, i) => (m(e) ? [i] : []));
  };
  it('ANDs labels and keys, ORs values', () => {
    expect(pick({ label: ['a=1', 'b=2'] })).toEqual([0]);
    expect(pick({ label: ['a=1', 'b=3'] })).toEqual([]);
    expect(pick({ type: ['volume', 'image'] })).toEqual([2, 3]);
    expect(pick({ type: ['container'], event: ['start'] })).toEqual([0]);
  });
  it('matches actors by id prefix or name, images with or without the tag, exec_create as a prefix', () => {
    expect(pick({ container: ['ccc'] })).toEqual([0, 1]);
    expect(pick({ container: ['web'] })).toEqual([0, 1]);
    expect(pick({ volume: ['data'] })).toEqual([2]);
    expect(pick({ image: ['busybox'] })).toEqual([0, 1, 3]);
    expect(pick({ event: ['exec_create'] })).toEqual([1]);
  });
  it('refuses a key dockerd does not know', () => {
    expect(() => pick({ colour: ['red'] })).toThrow("Invalid filter 'colour'");
  });
});

describe('GET /images/json filters, as dockerd', () => {
  const img = (id: string, tags: string[], created: string, labels: Record<string, string> = {}): ImageView =>
    ({ id, tags, created, size: 1, layers: [], config: { Labels: labels } }) as unknown as ImageView;
  const images = [
    img('sha256:1', ['busybox:latest', 'busybox:1.36'], '2024-01-01T00:00:00Z', { a: '1', b: '2' }),
    img('sha256:2', ['example.com/team/app:v1'], '2024-02-01T00:00:00Z', { a: '1' }),
    img('sha256:3', [], '2024-03-01T00:00:00Z'),
  ];
  const ctx = { images, inspect: async (ref: string) => images.find((i) => i.id === ref || i.tags.includes(ref))! };
  const pick = async (filters: Record<string, string[]>): Promise<string[]> =>
    (await selectImages(Filters.of(filters).accept('GET /images/json'), ctx)).map((s) => `${s.image.id}:${s.tags.join(',')}`);

  it('ANDs labels, narrows RepoTags to the references that match', async () => {
    expect(await pick({ label: ['a=1', 'b=2'] })).toEqual(['sha256:1:busybox:latest,busybox:1.36']);
    expect(await pick({ reference: ['busybox:1.*'] })).toEqual(['sha256:1:busybox:1.36']);
    expect(await pick({ reference: ['busybox'] })).toEqual(['sha256:1:busybox:latest,busybox:1.36']);
    expect(await pick({ reference: ['*/team/*'] })).toEqual(['sha256:2:example.com/team/app:v1']);
    expect(await pick({ reference: ['app'] })).toEqual([]);
  });
  it('answers dangling, before and since', async () => {
    expect(await pick({ dangling: ['true'] })).toEqual(['sha256:3:']);
    expect(await pick({ dangling: ['false'] })).toEqual(['sha256:1:busybox:latest,busybox:1.36', 'sha256:2:example.com/team/app:v1']);
    expect((await rejected(pick({ dangling: ['1'] })) as Error).message).toBe("Invalid filter 'dangling=[1]'");
    expect(await pick({ before: ['sha256:2'] })).toEqual(['sha256:1:busybox:latest,busybox:1.36']);
    expect(await pick({ since: ['sha256:2'] })).toEqual(['sha256:3:']);
  });
  it('reads reference patterns as Go\'s path.Match', () => {
    expect(goGlob('a*c').test('abbc')).toBe(true);
    expect(goGlob('a*c').test('a/c')).toBe(false);
    expect(goGlob('a?c').test('abc')).toBe(true);
    expect(goGlob('[a-c]x').test('bx')).toBe(true);
    expect(goGlob('[^a-c]x').test('bx')).toBe(false);
    expect(goGlob('a\\*').test('a*')).toBe(true);
    expect(goGlob('a.b').test('axb')).toBe(false);
    for (const bad of ['[', 'a\\', '[]']) expect(httpStatusFor(thrown(() => goGlob(bad))), bad).toBe(400);
  });
});

describe('volume filters are checked before the store answers them', () => {
  it('reads dangling as dockerd does and refuses unknown keys', () => {
    expect(volumeListRequest(Filters.of({ dangling: ['1'], name: ['a'] }).accept('GET /volumes')).store).toEqual({ dangling: true });
    expect((thrown(() => volumeListRequest(Filters.of({ dangling: ['maybe'] }).accept('GET /volumes'))) as Error).message).toBe("Invalid filter 'dangling=[maybe]'");
    const vol = (name: string, labels: Record<string, string>): VolumeView =>
      ({ Name: name, Driver: 'local', Labels: labels, Mountpoint: '', CreatedAt: '', Scope: 'local', Options: {} });
    const { keep } = volumeListRequest(Filters.of({ name: ['^app-', 'db'], label: ['a=1', 'b'], driver: ['local'] }).accept('GET /volumes'));
    expect([vol('app-1', { a: '1', b: '' }), vol('mydb', { a: '1', b: 'x' }), vol('app-2', { a: '1' }), vol('web', { a: '1', b: '' })].filter(keep).map((v) => v.Name))
      .toEqual(['app-1', 'mydb']);
    expect(() => Filters.of({ colour: ['red'] }).accept('GET /volumes')).toThrow("Invalid filter 'colour'");
    expect(volumePruneRequest(Filters.of({ all: ['true'], 'label!': ['k'] }).accept('POST /volumes/prune'))).toEqual({ all: true, filters: { 'label!': ['k'] } });
  });
});

describe('prune until, as moby\'s timetypes.GetTimestamp', () => {
  const now = 1_800_000_000;
  const until = (v: string[]): number | undefined => pruneUntil(Filters.of({ until: v }).accept('POST /containers/prune'), now);
  it('reads Go durations before now, RFC 3339 times and Unix seconds', () => {
    expect(goDurationSeconds('1h30m')).toBe(5400);
    expect(goDurationSeconds('1.5h')).toBe(5400);
    expect(goDurationSeconds('250ms')).toBe(0.25);
    expect(goDurationSeconds('10')).toBeUndefined();
    expect(until(['24h'])).toBe(now - 86400);
    expect(until(['1700000000'])).toBe(1_700_000_000);
    expect(until(['2024-01-02T03:04:05Z'])).toBe(Date.parse('2024-01-02T03:04:05Z') / 1000);
    expect(until([])).toBeUndefined();
  });
  it('refuses two values and what is no time with dockerd\'s texts', () => {
    expect((thrown(() => until(['1h', '2h'])) as Error).message).toBe('more than one until filter specified');
    const bad = thrown(() => until(['soon']));
    expect([httpStatusFor(bad), (bad as Error).message]).toEqual([400, 'failed to parse value as time or duration: "soon"']);
  });
});
