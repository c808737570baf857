import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES_DIR, generateExamples, listGeneratedFiles } from '../scripts/make-examples.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function readJsonl<T = Record<string, unknown>>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

interface T2IRecord {
  query: string;
  response: string[];
  label_rank: number[];
}
interface EditRecord {
  instruction: string;
  source_image: string;
  edited_images: string[];
  label_rank: number[];
}

const DATASETS = {
  't2i/seed.jsonl': { min: 12, max: 16 },
  't2i/test.jsonl': { min: 24, max: 32 },
  'edit/seed.jsonl': { min: 12, max: 16 },
  'edit/test.jsonl': { min: 24, max: 32 },
} as const;

function imagesOf(rec: T2IRecord | EditRecord): string[] {
  return 'response' in rec ? rec.response : [rec.source_image, ...rec.edited_images];
}

describe('examples are reproduced byte for byte', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'arr-examples-test-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('generateExamples(tmp) matches the committed tree (same files, same sha256)', async () => {
    const written = await generateExamples(tmp);
    const fresh = await listGeneratedFiles(tmp);
    expect(fresh).toEqual([...written].sort());
    const committed = await listGeneratedFiles(EXAMPLES_DIR);
    expect(committed).toEqual(fresh);
    const hash = async (dir: string): Promise<Record<string, string>> => {
      const out: Record<string, string> = {};
      for (const f of fresh) out[f] = sha256(await readFile(path.join(dir, f)));
      return out;
    };
    expect(await hash(EXAMPLES_DIR)).toEqual(await hash(tmp));
  }, 180_000);
});

describe('datasets', () => {
  for (const [rel, bounds] of Object.entries(DATASETS)) {
    describe(rel, () => {
      const file = path.join(EXAMPLES_DIR, rel);
      const dir = path.dirname(file);
      const records = readJsonl<T2IRecord | EditRecord>(file);

      it(`has ${bounds.min}-${bounds.max} records`, () => {
        expect(records.length).toBeGreaterThanOrEqual(bounds.min);
        expect(records.length).toBeLessThanOrEqual(bounds.max);
      });

      it('has the documented record shape and every image exists', () => {
        for (const rec of records) {
          if (rel.startsWith('t2i/')) {
            expect(Object.keys(rec)).toEqual(['query', 'response', 'label_rank']);
          } else {
            expect(Object.keys(rec)).toEqual(['instruction', 'source_image', 'edited_images', 'label_rank']);
            expect((rec as EditRecord).source_image).toMatch(/^images\/src_.*\.png$/);
          }
          const imgs = imagesOf(rec);
          expect(imgs.length).toBe(rel.startsWith('t2i/') ? 2 : 3);
          for (const img of imgs) {
            expect(path.isAbsolute(img)).toBe(false);
            expect(existsSync(path.join(dir, img)), `${rel}: ${img}`).toBe(true);
          }
        }
      });

      it('label_rank is a permutation of [1, 2]', () => {
        for (const rec of records) {
          expect(rec.label_rank).toHaveLength(2);
          expect([...rec.label_rank].sort()).toEqual([1, 2]);
        }
      });

      it('preferred-first share is between 35% and 65%', () => {
        const first = records.filter((r) => r.label_rank[0] === 1).length;
        const share = first / records.length;
        expect(share).toBeGreaterThanOrEqual(0.35);
        expect(share).toBeLessThanOrEqual(0.65);
      });
    });
  }

  it('seed and test are held apart (no shared prompt, instruction or image)', () => {
    for (const task of ['t2i', 'edit']) {
      const seed = readJsonl<T2IRecord | EditRecord>(path.join(EXAMPLES_DIR, task, 'seed.jsonl'));
      const test = readJsonl<T2IRecord | EditRecord>(path.join(EXAMPLES_DIR, task, 'test.jsonl'));
      const text = (r: T2IRecord | EditRecord): string => ('query' in r ? r.query : r.instruction);
      const seedText = new Set(seed.map(text));
      const seedImgs = new Set(seed.flatMap(imagesOf));
      for (const r of test) {
        expect(seedText.has(text(r))).toBe(false);
        for (const img of imagesOf(r)) expect(seedImgs.has(img)).toBe(false);
      }
    }
  });

  it('training lists exist and reference existing images', () => {
    const prompts = readFileSync(path.join(EXAMPLES_DIR, 't2i', 'prompts.txt'), 'utf8')
      .split('\n')
      .filter(Boolean);
    expect(prompts.length).toBeGreaterThanOrEqual(30);
    expect(new Set(prompts).size).toBe(prompts.length);
    const edits = readJsonl<{ source_image: string; instruction: string }>(
      path.join(EXAMPLES_DIR, 'edit', 'edits.jsonl'),
    );
    expect(edits.length).toBeGreaterThanOrEqual(15);
    for (const e of edits) {
      expect(Object.keys(e)).toEqual(['source_image', 'instruction']);
      expect(existsSync(path.join(EXAMPLES_DIR, 'edit', e.source_image))).toBe(true);
    }
  });

  it('all images are small RGB PNGs (<= 512 px)', async () => {
    const files = (await listGeneratedFiles(EXAMPLES_DIR)).filter((f) => f.endsWith('.png'));
    expect(files.length).toBeGreaterThan(0);
    let total = 0;
    for (const f of files) {
      const buf = await readFile(path.join(EXAMPLES_DIR, f));
      total += buf.length;
      const meta = await sharp(buf).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBeLessThanOrEqual(512);
      expect(meta.height).toBeLessThanOrEqual(512);
    }
    expect(total).toBeLessThan(3 * 1024 * 1024);
  }, 60_000);
});
