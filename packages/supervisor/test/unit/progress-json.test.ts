import { describe, expect, it } from 'vitest';
import { humanSize, progressBar, pullMessage } from '../../src/api/progress-json.js';

// Lines copied from the reference dockerd's answer to the same pull (docker 20.10).
describe("Docker's progress lines", () => {
  it('renders the bar and sizes as dockerd does', () => {
    expect(progressBar(32768, 1053418)).toBe('[=>                                                 ]  32.77kB/1.053MB');
    expect(progressBar(196608, 1053418)).toBe('[=========>                                         ]  196.6kB/1.053MB');
    expect(progressBar(1053418, 1053418)).toBe('[==================================================>]  1.053MB/1.053MB');
    expect(progressBar(38912, 1984249)).toBe('[>                                                  ]  38.91kB/1.984MB');
    expect(progressBar(2129920, 1984249)).toBe('[==================================================>]   2.13MB');
    expect(humanSize(1000)).toBe('1kB');
    expect(humanSize(999)).toBe('999B');
  });

  it('shapes each pull event as a JSON message', () => {
    expect(pullMessage({ kind: 'start', name: 'syn', tagOrDigest: '2' })).toEqual({ status: 'Pulling from syn', id: '2' });
    expect(pullMessage({ kind: 'layer', id: '1fc90069a01e', status: 'Pulling fs layer' })).toEqual({ status: 'Pulling fs layer', progressDetail: {}, id: '1fc90069a01e' });
    expect(JSON.stringify(pullMessage({ kind: 'layer', id: '1fc90069a01e', status: 'Extracting', current: 32768, total: 1053418 })))
      .toBe('{"status":"Extracting","progressDetail":{"current":32768,"total":1053418},"progress":"[=\\u003e                                                 ]  32.77kB/1.053MB","id":"1fc90069a01e"}'.replace('\\u003e', '>'));
    expect(pullMessage({ kind: 'done', upToDate: true, ref: '127.0.0.1:5599/bb:1' })).toEqual({ status: 'Status: Image is up to date for 127.0.0.1:5599/bb:1' });
  });
});
