import { describe, expect, it } from 'vitest';
import { CACHED_TARGETS, RUNNABLE_TARGETS, TARGET_NAMES, TARGET_REGISTRY } from '../../src/targets/registry.js';
import { loadTargetEntry } from '../../src/targets/run.js';

describe('target registry', () => {
  it('names an engine function that exists for every runnable target', async () => {
    for (const target of RUNNABLE_TARGETS) expect(typeof (await loadTargetEntry(target))).toBe('function');
  });

  it('lists dependencies that are targets declared before the dependent one', () => {
    for (const [index, name] of TARGET_NAMES.entries()) {
      for (const dep of TARGET_REGISTRY[name].dependsOn) {
        expect(TARGET_NAMES.indexOf(dep as never), `${name} depends on ${dep}`).toBeGreaterThanOrEqual(0);
        expect(TARGET_NAMES.indexOf(dep as never), `${name} depends on ${dep}`).toBeLessThan(index);
      }
    }
  });

  it('keys only cached targets, in build order, each with a key spec', () => {
    expect(CACHED_TARGETS).toEqual(['resolve', 'preprocess', 'rubric-generate', 'verify', 'freeze']);
    for (const target of CACHED_TARGETS) expect(TARGET_REGISTRY[target]).toHaveProperty('key');
  });
});
