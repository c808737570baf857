/**
 * Deterministic generator for the toy judge datasets under examples/.
 *
 *   npx tsx scripts/make-examples.ts           # (re)write examples/t2i and examples/edit
 *   npx tsx scripts/make-examples.ts --check   # regenerate into a temp dir, exit 1 on any byte difference
 *
 * Every image is a shapes-only SVG (no text, so no system fonts are involved) rasterised by sharp
 * (librsvg) and encoded as PNG with fixed options. All variation comes from a seeded PRNG keyed by
 * a string, so each record/image has its own independent stream and adding records does not shift
 * the others. No timestamps, no Math.random.
 *
 * The preferred image is right by construction: it is rendered from exactly the scene the text
 * describes, while the other candidate is rendered from a scene with one deliberate defect
 * (wrong count / colour / position, missing object, edit not done, edit plus collateral damage).
 */
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildExampleFiles, GENERATED_DIRS } from './examples/assemble.js';

/** Write all generated files under outDir; returns the sorted relative paths. */
export async function generateExamples(outDir: string): Promise<string[]> {
  const files = await buildExampleFiles();
  for (const [rel, data] of files) {
    const p = path.join(outDir, rel);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, data);
  }
  return [...files.keys()];
}

/** All files (relative, '/'-separated, sorted) under the generated subdirectories of dir. */
export async function listGeneratedFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else out.push(r);
    }
  };
  for (const d of GENERATED_DIRS) await walk(d);
  return out.sort();
}

export const EXAMPLES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'examples');

/** Compare a freshly generated tree against `committedDir`; returns human-readable problems. */
export async function checkExamples(committedDir: string = EXAMPLES_DIR): Promise<string[]> {
  const tmp = await mkdtemp(path.join(tmpdir(), 'arr-examples-'));
  try {
    await generateExamples(tmp);
    const fresh = await listGeneratedFiles(tmp);
    const committed = await listGeneratedFiles(committedDir);
    const problems: string[] = [];
    const committedSet = new Set(committed);
    const freshSet = new Set(fresh);
    for (const f of fresh) {
      if (!committedSet.has(f)) {
        problems.push(`missing: ${f}`);
        continue;
      }
      const [a, b] = await Promise.all([readFile(path.join(tmp, f)), readFile(path.join(committedDir, f))]);
      if (!a.equals(b)) problems.push(`differs: ${f}`);
    }
    for (const f of committed) if (!freshSet.has(f)) problems.push(`extra (not generated): ${f}`);
    return problems;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--check')) {
    const problems = await checkExamples();
    if (problems.length) {
      for (const p of problems) console.error(p);
      console.error(`examples are stale: ${problems.length} file(s); run npx tsx scripts/make-examples.ts`);
      return 1;
    }
    console.log('examples are up to date');
    return 0;
  }
  for (const d of GENERATED_DIRS) await rm(path.join(EXAMPLES_DIR, d), { recursive: true, force: true });
  const written = await generateExamples(EXAMPLES_DIR);
  console.log(`wrote ${written.length} files under ${path.relative(process.cwd(), EXAMPLES_DIR) || '.'}`);
  return 0;
}

const invokedDirectly = (() => {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return pathToFileURL(realpathSync(arg)).href === pathToFileURL(realpathSync(fileURLToPath(import.meta.url))).href;
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(2);
    },
  );
}
