/**
 * The test set of mutation testing (stryker.config.mjs): the unit tests of
 * the trust core only, so each mutant runs a few fast tests. Integration and
 * end-to-end suites (tracker service, HTTP, providers) are left out for time;
 * `npm test` still runs them.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/core/canonical-json*.test.ts',
      'test/protocol/**/*.test.ts',
      'test/ledger/**/*.test.ts',
      'test/tracker/validation/**/*.test.ts',
      'test/train/diloco/aggregate*.test.ts',
      'test/model/generate*.test.ts',
      'test/model/sample*.test.ts',
      'test/gateway/top-p*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/setup.ts'],
  },
});
