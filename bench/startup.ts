// Start-up time of the `arr` command: `node -e 0` as the floor, then `arr --version` and
// `arr status exp-flux` run from the compiled dist/ and from the TypeScript sources (ARR_FROM_SOURCE=1).
// Builds dist/ first when it is missing or stale. Runs interleave the variants, so load from other
// processes on the machine falls on all of them alike. Targets: --version <= 0.3 s, status <= 0.5 s.
// With --against <commit>, that commit's tree (git archive, sharing this node_modules) runs `arr status`
// in the same interleaved rounds: the before/after figure.
// Run: npx tsx bench/startup.ts [runs] [--against <commit>]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compiledIsCurrent, sourceStamp } from '../bin/source-stamp.mjs';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const againstAt = args.indexOf('--against');
const against = againstAt >= 0 ? args.splice(againstAt, 2)[1] : undefined;
const runs = Number(args[0] ?? 10);
const arr = join(root, 'bin', 'arr.mjs');

if (!compiledIsCurrent(join(root, 'src'), join(root, 'dist'))) {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'scripts', 'build.ts')],
    { stdio: 'inherit' },
  );
}

interface Variant {
  name: string;
  args: string[];
  fromSource?: boolean;
  targetS?: number;
  cwd?: string;
}
const variants: Variant[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'arr --version (compiled)', args: [arr, '--version'], targetS: 0.3 },
  { name: 'arr status exp-flux (compiled)', args: [arr, 'status', 'exp-flux'], targetS: 0.5 },
  { name: 'arr --version (sources, tsx)', args: [arr, '--version'], fromSource: true },
  { name: 'arr status exp-flux (sources, tsx)', args: [arr, 'status', 'exp-flux'], fromSource: true },
];

let beforeDir: string | undefined;
if (against) {
  beforeDir = mkdtempSync(join(tmpdir(), 'arr-bench-startup-'));
  execFileSync('sh', ['-c', `git archive ${JSON.stringify(against)} | tar -x -C ${JSON.stringify(beforeDir)}`], {
    cwd: root,
  });
  symlinkSync(join(root, 'node_modules'), join(beforeDir, 'node_modules'));
  variants.push({
    name: `arr status exp-flux (${against})`,
    args: [join(beforeDir, 'bin', 'arr.mjs'), 'status', 'exp-flux'],
    cwd: beforeDir,
  });
}

const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
try {
  for (let run = 0; run < runs; run++) {
    for (const v of variants) {
      const env = { ...process.env, NO_COLOR: '1', ARR_FROM_SOURCE: v.fromSource ? '1' : '0' };
      const t = performance.now();
      const result = spawnSync(process.execPath, v.args, {
        cwd: v.cwd ?? root,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const seconds = (performance.now() - t) / 1000;
      if (result.status !== 0) throw new Error(`${v.name} exited ${result.status}: ${result.stderr}`);
      times.get(v.name)!.push(seconds);
    }
  }
} finally {
  if (beforeDir) rmSync(beforeDir, { recursive: true, force: true });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const floor = median(times.get('node -e 0')!);
console.log(`median of ${runs} runs each (interleaved):`);
for (const v of variants) {
  const m = median(times.get(v.name)!);
  const verdict = v.targetS === undefined ? '' : `  target <= ${v.targetS} s: ${m <= v.targetS ? 'PASS' : 'FAIL'}`;
  console.log(`  ${v.name.padEnd(36)} ${m.toFixed(3)} s  ${(m / floor).toFixed(1)}x node -e 0${verdict}`);
}
for (const what of ['--version', 'status exp-flux']) {
  const compiled = median(times.get(variants.find((v) => v.name.includes(what) && !v.fromSource)!.name)!);
  const sources = median(times.get(variants.find((v) => v.name.includes(what) && v.fromSource)!.name)!);
  console.log(`  ${what}: compiled is ${(sources / compiled).toFixed(1)}x faster than the sources`);
}
if (against) {
  const before = median(times.get(`arr status exp-flux (${against})`)!);
  const after = median(times.get('arr status exp-flux (compiled)')!);
  console.log(`  status exp-flux: compiled is ${(before / after).toFixed(1)}x faster than at ${against}`);
}

// The freshness check bin/arr.mjs makes before every compiled start.
const stampMs: number[] = [];
for (let i = 0; i < 50; i++) {
  const t = performance.now();
  sourceStamp(join(root, 'src'));
  stampMs.push(performance.now() - t);
}
console.log(`  freshness check (stat walk of src/): ${median(stampMs).toFixed(2)} ms median of 50`);
