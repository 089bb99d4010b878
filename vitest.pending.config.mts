import { defineConfig } from 'vitest/config';

/** Integration tests not yet run on the lab (test/integration-pending/README.md): only on request. */
export default defineConfig({
  test: {
    include: ['test/integration-pending/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
