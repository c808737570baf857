// Shared vitest fixtures (test.extend): a test names what it needs in its first argument and gets a fresh
// one, torn down after it even when it fails. Import `test`/`it` from here instead of from vitest.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base } from 'vitest';
import { startSimVlm, type SimVlm, type SimVlmOptions } from './sim-vlm.js';
import { makeWorkspace, writeT2iExperiment, type TestWorkspace } from './workspace.js';

export interface Fixtures {
  /** An empty ARR workspace (an nx.json and cache/) in a temporary folder. */
  ws: TestWorkspace;
  /** `ws` with the t2i experiment `exp-a` and its datasets and images written (writeT2iExperiment). */
  t2iWs: TestWorkspace;
  /** Starts a simulated VLM judge on 127.0.0.1; every one started is closed after the test. */
  startSim: (options?: SimVlmOptions) => Promise<SimVlm>;
  /** Makes a temporary folder that is removed after the test. */
  tempDir: () => string;
}

// vitest reads which fixtures a fixture needs from its first parameter's destructuring, so `{}` is required.
export const test = base.extend<Fixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest's fixture signature
  ws: async ({}, use) => {
    const ws = makeWorkspace();
    try {
      await use(ws);
    } finally {
      ws.cleanup();
    }
  },
  t2iWs: async ({ ws }, use) => {
    await writeT2iExperiment(ws);
    await use(ws);
  },
  // biome-ignore lint/correctness/noEmptyPattern: vitest's fixture signature
  startSim: async ({}, use) => {
    const started: SimVlm[] = [];
    try {
      await use(async (options) => {
        const sim = await startSimVlm(options);
        started.push(sim);
        return sim;
      });
    } finally {
      await Promise.all(started.map((s) => s.close()));
    }
  },
  // biome-ignore lint/correctness/noEmptyPattern: vitest's fixture signature
  tempDir: async ({}, use) => {
    const made: string[] = [];
    try {
      await use(() => {
        const dir = mkdtempSync(join(tmpdir(), 'arr-test-'));
        made.push(dir);
        return dir;
      });
    } finally {
      for (const dir of made) rmSync(dir, { recursive: true, force: true });
    }
  },
});

export const it = test;
