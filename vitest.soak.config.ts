import { defineConfig } from 'vitest/config';

// The soak suite: the whole stack as real processes (API, service, helpers, ffmpeg, Xvfb), hundreds of
// cycles and crashes, checking that everything comes back to where it was. `npm run test:soak`; each
// check's numbers go to design/RELIABILITY.md (test/soak/global-setup.ts).
export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.test.ts'],
    globalSetup: ['test/soak/global-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One file at a time: the checks count processes, X clients and frame rates on a 2-core machine.
    fileParallelism: false,
    env: { PORTHOLE_FROM_SOURCE: '1' },
  },
});
