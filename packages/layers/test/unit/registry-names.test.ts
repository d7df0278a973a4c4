import { describe, expect, it } from 'vitest';
import { authKey, familiarName, isInsecure, parseChallenge, parseRegistryRef, registryDomain } from '../../src/index.js';

describe('registry references as distribution/reference reads them', () => {
  it('finds the domain, Docker Hub and library/, tags and digests', () => {
    expect(parseRegistryRef('busybox')).toEqual({ domain: 'docker.io', path: 'library/busybox' });
    expect(parseRegistryRef('me/app:1')).toEqual({ domain: 'docker.io', path: 'me/app', tag: '1' });
    expect(parseRegistryRef('127.0.0.1:5000/a/b:2')).toEqual({ domain: '127.0.0.1:5000', path: 'a/b', tag: '2' });
    expect(parseRegistryRef(`localhost/x@sha256:${'a'.repeat(64)}`)).toEqual({ domain: 'localhost', path: 'x', digest: `sha256:${'a'.repeat(64)}` });
    expect(familiarName(parseRegistryRef('docker.io/library/busybox:1'))).toBe('busybox');
    expect(() => parseRegistryRef('Upper/case')).toThrow(/repository names/);
    expect(() => parseRegistryRef('x@sha256:nothex')).toThrow(/not a sha256 digest/);
  });

  it("keys config.json as the docker CLI does, and reads login's server addresses", () => {
    expect(authKey('docker.io')).toBe('https://index.docker.io/v1/');
    expect(authKey('127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(registryDomain('https://index.docker.io/v1/')).toBe('docker.io');
    expect(registryDomain('')).toBe('docker.io');
    expect(registryDomain('http://127.0.0.1:5000/')).toBe('127.0.0.1:5000');
  });

  it("treats 127.0.0.0/8, localhost and the configured registries as insecure, nothing else", () => {
    expect(isInsecure('127.0.0.1:5000', {})).toBe(true);
    expect(isInsecure('127.9.8.7', {})).toBe(true);
    expect(isInsecure('localhost:5000', {})).toBe(true);
    expect(isInsecure('10.1.2.3:5000', {})).toBe(false);
    expect(isInsecure('10.1.2.3:5000', { insecureRegistries: ['10.0.0.0/8'] })).toBe(true);
    expect(isInsecure('reg.example:443', { insecureRegistries: ['reg.example:443'] })).toBe(true);
    expect(isInsecure('reg.example', { insecureRegistries: ['other.example'] })).toBe(false);
  });

  it('parses WWW-Authenticate challenges with quoted commas', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a/b:pull,push' },
    });
    expect(parseChallenge('Basic realm="x"')).toEqual({ scheme: 'basic', params: { realm: 'x' } });
    expect(parseChallenge('Negotiate')).toBeUndefined();
  });
});
