// Two tiers of tests (which file goes where: test/tiers.ts). `npm test` runs both; `npm run test:unit`
// and `npm run test:e2e` run one.
import { defineConfig } from 'vitest/config';
import { E2E_GLOBS } from './test/tiers.js';

const ALL_TESTS = ['test/**/*.test.ts'];

export default defineConfig({
  test: {
    projects: [
      // Unit files share their worker's module cache (isolate: false): loading src/ and the native
      // modules once per worker instead of once per file cuts the tier's CPU time by about a third. A
      // unit test therefore puts back any process state it changes (env, cwd, spies, exitCode).
      { extends: true, test: { name: 'unit', include: ALL_TESTS, exclude: E2E_GLOBS, isolate: false } },
      { extends: true, test: { name: 'e2e', include: E2E_GLOBS } },
    ],
  },
});
