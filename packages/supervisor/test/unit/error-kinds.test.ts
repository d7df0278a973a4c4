import { describe, expect, it } from 'vitest';
import { ERROR_KINDS, errnoNumber, SyscallError } from '@berth/syscall';
import {
  AmbiguousImageError, ContainerBusyError, DigestMismatchError, ImageConflictError, ImageInUseError, InvalidArchiveError,
  InvalidReferenceError, LayerStoreError, LowerdirTooLongError, NoSuchImageError, UnsafeEntryError,
} from '@berth/layers';
import {
  InvalidSubpathError, InvalidVolumeNameError, InvalidVolumeOptionError, SubpathNotFoundError, VolumeError, VolumeInUseError,
  VolumeMountError, VolumeNotFoundError,
} from '@berth/volumes';
import { BindPropagationError, BindSourceMissingError, LaunchError, MountSpecError, PlanError } from '@berth/runtime';
import {
  ConflictError, httpStatusFor, InvalidParameterError, NoSuchContainerError, NotFoundError, NotImplementedError, NotModifiedError,
  PayloadTooLargeError, STATUS_BY_KIND, SupervisorError,
} from '../../src/index.js';
import { NoSuchExecError } from '../../src/errors.js';
import { dockerEndpoint, unservedRequestError } from '../../src/api/endpoints.js';

describe('one error vocabulary: kinds decide statuses', () => {
  it('maps every kind, and only kinds, onto a status', () => {
    expect(Object.keys(STATUS_BY_KIND).sort()).toEqual([...ERROR_KINDS].sort());
    expect(httpStatusFor(new Error('boom'))).toBe(500);
    expect(httpStatusFor('a string')).toBe(500);
    expect(httpStatusFor({ kind: 'made-up' })).toBe(500);
    // A message that reads like a client error does not make one.
    expect(httpStatusFor(Object.assign(new Error('invalid: not found'), { code: 'InvalidParameter' }))).toBe(500);
  });

  it.each([
    // supervisor
    [new NoSuchContainerError('x'), 404],
    [new NoSuchExecError('x'), 404],
    [new NotFoundError('page not found'), 404],
    [new ConflictError('x'), 409],
    [new InvalidParameterError('x'), 400],
    [new NotModifiedError('x'), 304],
    [new NotImplementedError('x'), 501],
    [new PayloadTooLargeError(1), 413],
    [new SupervisorError('AddressInUse', 'x'), 500],
    // runtime: Docker's 400s for refused mounts (duplicate mount point was a 500)
    [new MountSpecError('duplicate-mount-point', 'Duplicate mount point: /a'), 400],
    [new MountSpecError('invalid-volume-specification', 'x'), 400],
    [new MountSpecError('invalid-mount-config', 'x'), 400],
    [new MountSpecError('invalid-tmpfs', 'x'), 400],
    [new MountSpecError('no-such-container', 'No such container: x'), 400],
    [new MountSpecError('unsupported', 'x'), 501],
    [new BindSourceMissingError('/missing'), 400],
    [new BindPropagationError('x', '/src'), 400],
    [new PlanError('no-command', 'no command specified'), 400],
    [new PlanError('invalid-config', 'x'), 400],
    [new PlanError('no-such-network', 'network x not found'), 404],
    [new PlanError('unsupported-network', 'x'), 501],
    [new LaunchError('x'), 500],
    // layers
    [new NoSuchImageError('x'), 404],
    [new AmbiguousImageError('x'), 409],
    [new InvalidArchiveError('x'), 400],
    [new UnsafeEntryError('x', 'y'), 400],
    [new DigestMismatchError('x', 'a', 'b'), 400],
    [new ImageInUseError('x', []), 409],
    [new ImageConflictError('x', 'y'), 409],
    [new InvalidReferenceError('x', 'y'), 400],
    [new ContainerBusyError('x', '/m'), 409],
    [new LowerdirTooLongError('x', 5000), 500],
    [new LayerStoreError('MISSING_LAYER', 'x'), 500],
    // volumes
    [new VolumeNotFoundError('x'), 404],
    [new VolumeInUseError('x', []), 409],
    [new InvalidVolumeNameError('x', 'y'), 400],
    [new InvalidVolumeOptionError('x'), 400],
    [new InvalidSubpathError('x'), 400],
    [new SubpathNotFoundError('x', '/d'), 400],
    [new VolumeError('AlreadyExists', 'x'), 409],
    [new VolumeMountError('x'), 500],
    // syscall: a failed kernel call is the machine's failure, whatever its errno
    [new SyscallError('openat2', errnoNumber('ENOENT'), ['/x']), 500],
  ] as const)('%s answers %i', (err, status) => {
    expect(httpStatusFor(err)).toBe(status);
  });
});

describe('endpoints berth does not serve', () => {
  it('names the Docker endpoint a path falls under', () => {
    expect(dockerEndpoint('POST', '/containers/abc/update')).toBe('POST /containers/{id}/update');
    expect(dockerEndpoint('GET', '/images/library/busybox/history')).toBe('GET /images/{name}/history');
    expect(dockerEndpoint('POST', '/swarm/init')).toBe('POST /swarm/init');
    expect(dockerEndpoint('HEAD', '/containers/abc/archive')).toBe('HEAD /containers/{id}/archive');
    expect(dockerEndpoint('GET', '/no/such/path')).toBeUndefined();
    // A known path with a method Docker does not have is no endpoint: dockerd says 404.
    expect(dockerEndpoint('PUT', '/info')).toBeUndefined();
    expect(dockerEndpoint('POST', '/containers/json')).toBeUndefined();
  });
  it('answers 501 for Docker endpoints and Docker\'s 404 for the rest', () => {
    const missing = unservedRequestError('POST', '/swarm/init');
    expect([httpStatusFor(missing), missing.message]).toEqual([501, 'berth does not implement POST /swarm/init']);
    const bogus = unservedRequestError('GET', '/bogus');
    expect([httpStatusFor(bogus), bogus.message]).toEqual([404, 'page not found']);
  });
});
