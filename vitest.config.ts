// Two tiers of tests (which file goes where: test/tiers.ts). `npm test` runs both; `npm run test:unit`
// and `npm run test:e2e` run one.
import { defineConfig } from 'vitest/config';
import { E2E_GLOBS } from './test/tiers.js';

const ALL_TESTS = ['test/**/*.test.ts'];

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ALL_TESTS, exclude: E2E_GLOBS } },
      { extends: true, test: { name: 'e2e', include: E2E_GLOBS } },
    ],
  },
});
