import { defineConfig } from 'vitest/config';

// Two tiers. Unit tests run anywhere without privileges. Root tests touch the
// real kernel (namespaces, overlay, cgroups); they run one file at a time so
// each can compare the host's mount table before and after, and they skip,
// saying so, only when not run as root.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/unit/**/*.test.ts'],
          pool: 'threads',
        },
      },
      {
        test: {
          name: 'root',
          include: ['packages/*/test/root/**/*.test.ts', 'test/reliability/**/*.test.ts'],
          // net.ipv4.ip_forward back as found (netavark turns it on for bridge networks).
          globalSetup: ['./tools/host-sysctls.ts'],
          pool: 'forks',
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
