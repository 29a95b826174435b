import { defineConfig } from 'vitest/config';

// The Win32 suite: run by Windows' node.exe under Wine (`npm run test:win32`, scripts/test-win32.sh),
// from build/win32/app, where the sources sit next to a win32 node_modules.
export default defineConfig({
  test: {
    include: ['test/win32/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Wine is slow to start processes and the machine is small: one file at a time.
    fileParallelism: false,
    // koffi type names (STARTUPINFOW, HANDLE…) are process-wide and can be declared once: the files share
    // one module graph instead of re-evaluating src/native/win32 per file.
    isolate: false,
    // Helpers the tests spawn run the compiled dist/, never tsx.
    env: { PORTHOLE_FROM_SOURCE: '0' },
  },
});
