// Start-up time of the `arr` command: `node -e 0` as the floor, then `arr --version` and
// `arr status exp-flux` run from the compiled dist/ and from the TypeScript sources (ARR_FROM_SOURCE=1).
// Builds dist/ first when it is missing or stale. Runs interleave the variants, so load from other
// processes on the machine falls on all of them alike. Targets: --version <= 0.3 s, status <= 0.5 s.
// Run: npx tsx bench/startup.ts [runs]
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { compiledIsCurrent, sourceStamp } from '../bin/source-stamp.mjs';

const root = join(import.meta.dirname, '..');
const runs = Number(process.argv[2] ?? 10);
const arr = join(root, 'bin', 'arr.mjs');

if (!compiledIsCurrent(join(root, 'src'), join(root, 'dist'))) {
  execFileSync(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'scripts', 'build.ts')], { stdio: 'inherit' });
}

interface Variant {
  name: string;
  args: string[];
  fromSource?: boolean;
  targetS?: number;
}
const variants: Variant[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'arr --version (compiled)', args: [arr, '--version'], targetS: 0.3 },
  { name: 'arr status exp-flux (compiled)', args: [arr, 'status', 'exp-flux'], targetS: 0.5 },
  { name: 'arr --version (sources, tsx)', args: [arr, '--version'], fromSource: true },
  { name: 'arr status exp-flux (sources, tsx)', args: [arr, 'status', 'exp-flux'], fromSource: true },
];

const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (let run = 0; run < runs; run++) {
  for (const v of variants) {
    const env = { ...process.env, NO_COLOR: '1', ARR_FROM_SOURCE: v.fromSource ? '1' : '0' };
    const t = performance.now();
    const result = spawnSync(process.execPath, v.args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    const seconds = (performance.now() - t) / 1000;
    if (result.status !== 0) throw new Error(`${v.name} exited ${result.status}: ${result.stderr}`);
    times.get(v.name)!.push(seconds);
  }
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

// The freshness check bin/arr.mjs makes before every compiled start.
const stampMs: number[] = [];
for (let i = 0; i < 50; i++) {
  const t = performance.now();
  sourceStamp(join(root, 'src'));
  stampMs.push(performance.now() - t);
}
console.log(`  freshness check (stat walk of src/): ${median(stampMs).toFixed(2)} ms median of 50`);
