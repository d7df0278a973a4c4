/** glibc's makedev(): the 64-bit dev_t encoding of a major and minor number. */
export function makedev(major: number, minor: number): number {
  const dev =
    ((BigInt(major) & 0xfffff000n) << 32n) |
    ((BigInt(major) & 0xfffn) << 8n) |
    ((BigInt(minor) & 0xffffff00n) << 12n) |
    (BigInt(minor) & 0xffn);
  return Number(dev);
}

export function major(dev: number): number {
  const d = BigInt(dev);
  return Number(((d >> 32n) & 0xfffff000n) | ((d >> 8n) & 0xfffn));
}

export function minor(dev: number): number {
  const d = BigInt(dev);
  return Number(((d >> 12n) & 0xffffff00n) | (d & 0xffn));
}
