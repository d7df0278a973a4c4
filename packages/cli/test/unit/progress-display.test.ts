import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProgressDisplay } from '../../src/commands/registry.js';

function collect(tty: boolean): { display: ProgressDisplay; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => { text += c.toString(); });
  return { display: new ProgressDisplay(out, tty), text: () => text };
}

describe('berth pull progress', () => {
  it('off a terminal: each status change once, progress updates skipped', () => {
    const { display, text } = collect(false);
    display.show({ status: 'Pulling from bb', id: '1' });
    display.show({ status: 'Pulling fs layer', id: 'abc' });
    display.show({ status: 'Downloading', id: 'abc', progress: '[=>   ] 1kB/2kB' });
    display.show({ status: 'Pull complete', id: 'abc' });
    display.show({ status: 'Status: Downloaded newer image for bb:1' });
    expect(text()).toBe('1: Pulling from bb\nabc: Pulling fs layer\nabc: Pull complete\nStatus: Downloaded newer image for bb:1\n');
  });

  it("on a terminal: one line per layer, rewritten in place as the docker CLI does", () => {
    const { display, text } = collect(true);
    display.show({ status: 'Pulling fs layer', id: 'a' });
    display.show({ status: 'Pulling fs layer', id: 'b' });
    display.show({ status: 'Downloading', id: 'a', progress: '[=>  ] 1kB/2kB' });
    expect(text()).toBe('a: Pulling fs layer\nb: Pulling fs layer\n\x1b[2A\r\x1b[2Ka: Downloading [=>  ] 1kB/2kB\r\x1b[2B');
  });
});
