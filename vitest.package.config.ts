import { defineConfig } from 'vitest/config';

// The package suite: installs the .deb that `npm run package:deb` built into this machine, checks it
// with lintian, then purges it. `npm run test:package` (as root; minutes, not seconds: lintian and
// apt on a 50 MB package), so it stays out of the fast suite.
export default defineConfig({
  test: {
    include: ['test/package/**/*.package.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
