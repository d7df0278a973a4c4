/**
 * Go's path.Clean as Docker's parsers use it (mount sources and targets,
 * tmpfs destinations, working directories): the cases of Go's own
 * path_test.go.
 */
import { describe, expect, it } from 'vitest';
import { goPathClean } from '../../src/spec/go-compat.js';

// Go's src/path/path_test.go cleantests.
const GO_CASES: [string, string][] = [
  ['', '.'], ['abc', 'abc'], ['abc/def', 'abc/def'], ['a/b/c', 'a/b/c'], ['.', '.'], ['..', '..'], ['../..', '../..'],
  ['../../abc', '../../abc'], ['/abc', '/abc'], ['/', '/'], ['abc/', 'abc'], ['abc/def/', 'abc/def'], ['a/b/c/', 'a/b/c'],
  ['./', '.'], ['../', '..'], ['../../', '../..'], ['/abc/', '/abc'], ['abc//def//ghi', 'abc/def/ghi'], ['//abc', '/abc'],
  ['///abc', '/abc'], ['//abc//', '/abc'], ['abc//', 'abc'], ['abc/./def', 'abc/def'], ['/./abc/def', '/abc/def'],
  ['abc/.', 'abc'], ['abc/def/ghi/../jkl', 'abc/def/jkl'], ['abc/def/../ghi/../jkl', 'abc/jkl'], ['abc/def/..', 'abc'],
  ['abc/def/../..', '.'], ['/abc/def/../..', '/'], ['abc/def/../../..', '..'], ['/abc/def/../../..', '/'],
  ['abc/def/../../../ghi/jkl/../../../mno', '../../mno'], ['abc/./../def', 'def'], ['abc//./../def', 'def'],
  ['abc/../../././../def', '../../def'], ['.abc', '.abc'], ['..abc', '..abc'], ['abc.', 'abc.'], ['/a/.b/..c/...', '/a/.b/..c/...'],
];

describe('goPathClean', () => {
  it("gives Go's answers", () => {
    for (const [input, want] of GO_CASES) expect([input, goPathClean(input)]).toEqual([input, want]);
  });
});
