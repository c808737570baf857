// Freezing a rubric: text then lock, written once; the same text again is a no-op; a different text under
// an existing version is refused; a half-finished freeze is repaired.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { InvalidInputError } from '../../src/diagnostics.js';
import {
  freezeRubric,
  lockPathFor,
  parseFrozenName,
  readLockFile,
  validateLockValue,
} from '../../src/rubric/freeze.js';
import { sha256Hex } from '../../src/store/canonical-json.js';
import { it } from '../helpers/fixtures.js';
import { TEXT, lockInput } from './fixtures.js';

describe('freezeRubric', () => {
  it('writes rubrics/<name>.v<version>.txt and a schema-valid lock recording its sha256', async ({ ws }) => {
    const result = await freezeRubric(ws.root, {
      name: 'flux-t2i-general',
      version: 1,
      text: TEXT,
      lock: lockInput(),
      now: new Date('2026-01-02T03:04:05Z'),
    });
    expect(result.status).toBe('written');
    expect(result.txt).toBe(ws.path('rubrics/flux-t2i-general.v1.txt'));
    expect(result.lockFile).toBe(ws.path('rubrics/flux-t2i-general.v1.lock.json'));
    expect(readFileSync(result.txt, 'utf8')).toBe(TEXT);
    const read = readLockFile(result.lockFile);
    expect(read.diagnostics).toEqual([]);
    expect(read.lock).toMatchObject({
      schema: 1,
      name: 'flux-t2i-general',
      version: 1,
      rubric_sha256: sha256Hex(TEXT),
      frozen_at: '2026-01-02T03:04:05.000Z',
    });
    // Keys in schema order, so reviews of lock diffs read the same every time.
    expect(Object.keys(read.lock!)[0]).toBe('schema');
    expect(Object.keys(read.lock!).at(-1)).toBe('frozen_at');
  });

  it('is a no-op for the same text again, even with other metrics (the lock keeps what it was frozen with)', async ({
    ws,
  }) => {
    const first = await freezeRubric(ws.root, { name: 'r', version: 1, text: TEXT, lock: lockInput() });
    const lockBefore = readFileSync(first.lockFile, 'utf8');
    const again = await freezeRubric(ws.root, {
      name: 'r',
      version: 1,
      text: TEXT,
      lock: lockInput({ accuracy: 0.9 }),
      now: new Date('2030-01-01T00:00:00Z'),
    });
    expect(again.status).toBe('unchanged');
    expect(readFileSync(first.lockFile, 'utf8')).toBe(lockBefore);
  });

  it('refuses a different text under an existing version, naming both sha256s and the fix', async ({ ws }) => {
    await freezeRubric(ws.root, { name: 'r', version: 1, text: TEXT, lock: lockInput() });
    const other = TEXT.replace('Count', 'Really count');
    const refused = freezeRubric(ws.root, { name: 'r', version: 1, text: other, lock: lockInput() });
    await expect(refused).rejects.toThrow(sha256Hex(TEXT));
    await expect(freezeRubric(ws.root, { name: 'r', version: 1, text: other, lock: lockInput() })).rejects.toThrow(
      sha256Hex(other),
    );
    await expect(freezeRubric(ws.root, { name: 'r', version: 1, text: other, lock: lockInput() })).rejects.toThrow(
      'bump freeze.version',
    );
    expect(readFileSync(ws.path('rubrics/r.v1.txt'), 'utf8')).toBe(TEXT);
    expect((await freezeRubric(ws.root, { name: 'r', version: 2, text: other, lock: lockInput() })).status).toBe(
      'written',
    );
  });

  it('refuses to freeze over a frozen file that was edited by hand', async ({ ws }) => {
    const { txt } = await freezeRubric(ws.root, { name: 'r', version: 1, text: TEXT, lock: lockInput() });
    writeFileSync(txt, TEXT + 'extra\n');
    await expect(freezeRubric(ws.root, { name: 'r', version: 1, text: TEXT, lock: lockInput() })).rejects.toThrow(
      'edited after freezing',
    );
  });

  it('repairs a freeze that stopped between the text and the lock', async ({ ws }) => {
    const { txt, lockFile } = await freezeRubric(ws.root, { name: 'r', version: 1, text: TEXT, lock: lockInput() });
    rmSync(lockFile);
    expect((await freezeRubric(ws.root, { name: 'r', version: 1, text: TEXT, lock: lockInput() })).status).toBe(
      'written',
    );
    expect(readLockFile(lockFile).lock?.rubric_sha256).toBe(sha256Hex(TEXT));
    // A text without a lock that differs is still an existing version.
    rmSync(lockFile);
    await expect(freezeRubric(ws.root, { name: 'r', version: 1, text: 'other\n', lock: lockInput() })).rejects.toThrow(
      sha256Hex(TEXT),
    );
    expect(existsSync(txt)).toBe(true);
  });

  it('validates the name, the version, the text and the lock before writing anything', async ({ ws }) => {
    await expect(
      freezeRubric(ws.root, { name: 'Flux T2I', version: 1, text: TEXT, lock: lockInput() }),
    ).rejects.toThrow('must match ^[a-z0-9][a-z0-9._-]*$');
    await expect(freezeRubric(ws.root, { name: '../evil', version: 1, text: TEXT, lock: lockInput() })).rejects.toThrow(
      'must match',
    );
    await expect(freezeRubric(ws.root, { name: 'r', version: 0, text: TEXT, lock: lockInput() })).rejects.toThrow(
      'freeze.version',
    );
    await expect(freezeRubric(ws.root, { name: 'r', version: 1, text: '  \n', lock: lockInput() })).rejects.toThrow(
      'empty rubric',
    );
    const broken = freezeRubric(ws.root, {
      name: 'r',
      version: 1,
      text: 'Rubric 1:\nTheme: A\n- Tip2: x\n',
      lock: lockInput(),
    });
    await expect(broken).rejects.toBeInstanceOf(InvalidInputError);
    await expect(
      freezeRubric(ws.root, { name: 'r', version: 1, text: TEXT, lock: { ...lockInput(), verify_key: 'short' } }),
    ).rejects.toThrow('verify_key must be a sha256');
    expect(existsSync(ws.path('rubrics/r.v1.txt'))).toBe(false);
  });
});

describe('lock helpers', () => {
  it('name the lock beside a text and read frozen names', ({ ws }) => {
    expect(lockPathFor('/ws/rubrics/a.v3.txt')).toBe('/ws/rubrics/a.v3.lock.json');
    expect(parseFrozenName('/ws/rubrics/flux-t2i.general.v12.txt')).toEqual({ name: 'flux-t2i.general', version: 12 });
    expect(parseFrozenName('/ws/rubrics/notes.txt')).toBeUndefined();
    expect(parseFrozenName('/ws/rubrics/Upper.v1.txt')).toBeUndefined();
  });

  it('report schema problems by field, with lines when read from a file', async ({ ws }) => {
    const { lockFile } = await freezeRubric(ws.root, { name: 'r', version: 1, text: TEXT, lock: lockInput() });
    const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
    lock.metrics.accuracy = 1.5;
    lock.frozen_at = 'yesterday';
    delete lock.thresholds.min_gain;
    lock.extra = true;
    writeFileSync(lockFile, JSON.stringify(lock, null, 2));
    const read = readLockFile(lockFile);
    expect(read.lock).toBeUndefined();
    const byField = Object.fromEntries(read.diagnostics.map((d) => [d.field, d]));
    expect(Object.keys(byField).sort()).toEqual(['extra', 'frozen_at', 'metrics.accuracy', 'thresholds.min_gain']);
    const lines = readFileSync(lockFile, 'utf8').split('\n');
    expect(lines[byField['metrics.accuracy'].line! - 1]).toContain('"accuracy"');
    const { extra: _extra, ...rest } = lock;
    expect(
      validateLockValue({
        ...rest,
        metrics: { ...lock.metrics, accuracy: 0.7 },
        frozen_at: '2026-01-01T00:00:00Z',
        thresholds: { ...lock.thresholds, min_gain: 0 },
        datasets: { seed: 'x', test: null },
      }),
    ).toEqual([expect.objectContaining({ field: 'datasets.seed' })]);
  });

  it('locates invalid JSON', ({ ws }) => {
    const file = ws.write('rubrics/r.v1.lock.json', '{\n  "schema": 1,\n  oops\n}\n');
    expect(readLockFile(file).diagnostics[0]).toMatchObject({
      line: 3,
      message: expect.stringContaining('not valid JSON'),
    });
  });
});
