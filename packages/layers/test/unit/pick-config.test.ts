import { describe, expect, it } from 'vitest';
import { pickConfig } from '../../src/formats.js';

describe('image config fields berth keeps', () => {
  it('keeps HEALTHCHECK for the health monitor, drops nulls', () => {
    const hc = { Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 5e9, Retries: 2 };
    expect(pickConfig({ Cmd: null, Healthcheck: hc })).toEqual({ Healthcheck: hc });
    expect(pickConfig({ Healthcheck: null })).toEqual({});
  });
});
