import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AF_UNIX, LinuxSyscalls, O_CLOEXEC, SOCK_CLOEXEC, SOCK_SEQPACKET, SyscallError } from '../../src/index.js';

const sys = new LinuxSyscalls();
const dir = mkdtempSync(join(tmpdir(), 'berth-sockets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sendFds and renameExchange (a sandbox\'s launch message and its layer swap)', () => {
  it('sends one message with descriptors the receiver can use (received here by Python\'s recv_fds)', () => {
    const [ours, theirs] = sys.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    const [readEnd, writeEnd] = sys.pipe2(O_CLOEXEC);
    try {
      expect(sys.sendFds(ours, Buffer.from('2\0a\0b\0'), [writeEnd])).toBe(6);
      // The receiver writes through the descriptor it got; the pipe's other end shows it.
      const receiver = spawnSync('python3', ['-c', [
        'import os, socket',
        's = socket.socket(fileno=3)',
        'msg, fds, flags, addr = socket.recv_fds(s, 100, 4)',
        'os.write(fds[0], msg.replace(b"\\0", b"|"))',
        'print(len(fds))',
      ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit', theirs], encoding: 'utf8' });
      expect(receiver.stdout).toBe('1\n');
      closeSync(writeEnd);
      expect(readFileSync(readEnd, 'latin1')).toBe('2|a|b|');
    } finally {
      for (const fd of [ours, theirs, readEnd]) sys.close(fd);
    }
  });

  it('fails with EPIPE, not a signal, when the peer is gone', () => {
    const [ours, theirs] = sys.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sys.close(theirs);
    try {
      expect(() => sys.sendFds(ours, Buffer.from('x\0'), [])).toThrow(SyscallError);
      expect(() => sys.sendFds(ours, Buffer.from('x\0'), [])).toThrow(/EPIPE/);
    } finally {
      sys.close(ours);
    }
  });

  it('swaps two directories in one step, their contents with them', () => {
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'a', 'from-a'), '');
    sys.renameExchange(join(dir, 'a'), join(dir, 'b'));
    expect(readdirSync(join(dir, 'b'))).toEqual(['from-a']);
    expect(readdirSync(join(dir, 'a'))).toEqual([]);
    expect(() => sys.renameExchange(join(dir, 'a'), join(dir, 'missing'))).toThrow(/ENOENT/);
  });
});
