import {
  AF_INET, IFF_UP, IFREQ_SIZE, SIOCGIFFLAGS, SIOCSIFFLAGS, SOCK_CLOEXEC, SOCK_DGRAM, type Syscalls,
} from '@berth/syscall';

/** Brings `lo` up in the calling thread's (new) network namespace: `ip link set lo up`. */
export function bringUpLoopback(sys: Syscalls): void {
  const fd = sys.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  try {
    const ifreq = Buffer.alloc(IFREQ_SIZE);
    ifreq.write('lo', 0, 'ascii');
    sys.ioctl(fd, SIOCGIFFLAGS, ifreq);
    // ifr_flags is a short at offset 16, after the 16-byte name.
    ifreq.writeUInt16LE(ifreq.readUInt16LE(16) | IFF_UP, 16);
    sys.ioctl(fd, SIOCSIFFLAGS, ifreq);
  } finally {
    sys.close(fd);
  }
}
