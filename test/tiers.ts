// Which test files make up the two vitest projects (vitest.config.ts), and the rule the unit tier keeps.
// e2e: a test that starts another process (the arr CLI, nx, python, chromium, a worker) or a long-lived
// server of ours. It lives in test/e2e/ or in a file named `<name>.e2e.test.ts` beside the code it covers.
// unit: every other test file; the whole tier runs in under 30 s. test/tiers.test.ts fails when a unit
// file starts a process, naming the file, so a new file cannot slip into the wrong tier.

/** Folders whose test files are all end-to-end. */
export const E2E_DIRS = ['test/e2e/'];
/** The name ending that marks an end-to-end test file anywhere under test/. */
export const E2E_SUFFIX = '.e2e.test.ts';
/**
 * Files that mix unit tests with a few that start processes. They run in the e2e tier as a whole until
 * each is split into `<name>.test.ts` and `<name>.e2e.test.ts`; remove an entry once its file is split.
 */
export const MIXED_FILES = [
  'test/preprocess/tensors.test.ts',
  'test/report/verify-html.test.ts',
  'test/reward/service.test.ts',
  'test/rubric/import-config.test.ts',
  'test/rubric/rubric-check.test.ts',
  'test/targets/status.test.ts',
  'test/train/launch.test.ts',
];

/** Globs (relative to the repository root) of the e2e tier's files. */
export const E2E_GLOBS = [...E2E_DIRS.map((d) => `${d}**/*.test.ts`), `test/**/*${E2E_SUFFIX}`, ...MIXED_FILES];

/** True when `file` (relative to the repository root, with `/`) belongs to the e2e tier. */
export function isE2eFile(file: string): boolean {
  return E2E_DIRS.some((d) => file.startsWith(d)) || file.endsWith(E2E_SUFFIX) || MIXED_FILES.includes(file);
}
