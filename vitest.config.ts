import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // build dist/ once (CLI tests spawn bin/tapeflow.js); install Debian chromium (as root, via
    // apt-get) when it is missing, before any browser test
    globalSetup: ['tests/global-build.ts', 'tests/browser/global-setup.ts'],
  },
});
