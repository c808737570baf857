// Items 10 and 11 of the reliability catalogue: an edited judge answer is never used, and temp files
// of interrupted writes are removed, with every write error naming its path.
import { Command } from 'commander';
import { execa } from 'execa';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseRankAnswer } from '../../src/judge/answers.js';
import { registerCacheCommand } from '../../src/commands/cache.js';
import { ResponseCache } from '../../src/judge/response-cache.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, repoRoot, type TestWorkspace } from '../helpers/workspace.js';
import { client, encoder, grey, settings } from '../judge/support.js';

let ws: TestWorkspace;
let sim: SimVlm;
let lines: string[];
const startDir = process.cwd();

beforeEach(async () => {
  ws = makeWorkspace();
  sim = await startSimVlm();
  lines = [];
  process.chdir(ws.root);
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  process.exitCode = undefined;
});
afterEach(async () => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  process.chdir(startDir);
  await sim.close();
  ws.cleanup();
});

async function arr(...args: string[]): Promise<void> {
  const program = new Command('arr').exitOverride();
  registerCacheCommand(program);
  await program.parseAsync(['cache', ...args], { from: 'user' });
}

/** One pairwise judgement of a dark and a bright image through a client with the workspace's cache. */
async function judgeOnce() {
  const enc = encoder();
  const [dark, bright] = [await enc.encode(await grey(40)), await enc.encode(await grey(200))];
  const c = client(settings([sim.url]), ws.path('cache/judge'));
  const request = {
    turns: [
      {
        role: 'user' as const,
        content: [
          { type: 'text' as const, text: 'Which is better? Reply {"rank": [..]}' },
          { type: 'image' as const, image: dark },
          { type: 'image' as const, image: bright },
        ],
      },
    ],
    answer: { kind: 'rank' as const, n: 2 },
  };
  return c.ask(request, (reply) => parseRankAnswer(reply, 2));
}

const entryFile = (key: string) => ws.path(`cache/judge/${key.slice(0, 2)}/${key}.json`);

describe('reliability: judge cache integrity (item 10)', () => {
  it('item 10: an answer edited in the cache (ranks swapped) is ignored, asked again and reported by arr cache verify', async () => {
    const first = await judgeOnce();
    expect(first.value.rank).toEqual([2, 1]);
    const stored = JSON.parse(readFileSync(entryFile(first.key), 'utf8'));
    expect(stored).toMatchObject({ key: first.key, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await judgeOnce()).cached).toBe(true);

    writeFileSync(
      entryFile(first.key),
      JSON.stringify({ ...stored, content: stored.content.replace('[2,1]', '[1,2]') }),
    );
    await arr('verify');
    expect(process.exitCode).toBe(1);
    expect(lines.join('\n')).toContain(
      `corrupt judge/${first.key} judge/${first.key.slice(0, 2)}/${first.key}.json: checksum mismatch: the reply was changed after it was stored`,
    );

    const requests = sim.requests.length;
    const again = await judgeOnce();
    expect(again.cached).toBe(false);
    expect(again.value.rank).toEqual([2, 1]);
    expect(sim.requests.length).toBe(requests + 1);
    // The fresh answer replaced the edited one.
    lines = [];
    process.exitCode = undefined;
    await arr('verify');
    expect(process.exitCode).toBeUndefined();
  });

  it('item 10: an entry copied under another request key is refused, and gc removes it', async () => {
    const first = await judgeOnce();
    const other = 'f'.repeat(64);
    mkdirSync(ws.path('cache/judge/ff'), { recursive: true });
    writeFileSync(entryFile(other), readFileSync(entryFile(first.key)));
    const cache = new ResponseCache(ws.path('cache/judge'));
    expect(await cache.get(other)).toBeUndefined();
    expect(cache.refused.get(other)).toMatch(/^answers request [0-9a-f]{12}…, not this one$/);
    await arr('gc');
    expect(existsSync(entryFile(other))).toBe(false);
    expect(existsSync(entryFile(first.key))).toBe(true);
  });
});

describe('reliability: temp files and write errors (item 11)', () => {
  it('item 11: arr cache gc removes temp files a killed freeze or cache write left behind, and keeps live ones', async () => {
    mkdirSync(ws.path('rubrics'), { recursive: true });
    mkdirSync(ws.path('cache/judge/ab'), { recursive: true });
    const dead = 999_999_999;
    const leftovers = [
      ws.write(`rubrics/.flux.v1.txt.${dead}.a1b2c3d4e5f6.tmp`, 'half'),
      ws.write(`cache/judge/ab/.${'a'.repeat(64)}.json.${dead}.0badc0ffee00.tmp`, '{'),
    ];
    const live = ws.write(`rubrics/.flux.v2.txt.${process.pid}.a1b2c3d4e5f6.tmp`, 'being written');
    const kept = ws.write('rubrics/notes.tmp', 'not ours');
    await arr('gc', '--dry-run');
    for (const file of leftovers) expect(existsSync(file)).toBe(true);
    await arr('gc');
    for (const file of leftovers) expect(existsSync(file)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(kept)).toBe(true);
    // An hour later even our own unfinished file is abandoned.
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(live, old, old);
    await arr('gc');
    expect(existsSync(live)).toBe(false);
  });

  it('item 11: a freeze whose write fails (file size limit) names the file and leaves no temp file', async () => {
    const script = ws.write(
      'freeze.mts',
      `import { freezeRubric } from ${JSON.stringify(join(repoRoot, 'src/rubric/freeze.ts'))};
import { lockInput } from ${JSON.stringify(join(repoRoot, 'test/rubric/fixtures.ts'))};
const text = 'Rubric 1:\\nTheme: Size\\n' + Array.from({ length: 4000 }, (_, i) => '- Tip' + (i + 1) + ': check detail number ' + i + '.').join('\\n') + '\\n';
freezeRubric(process.argv[2], { name: 'big', version: 1, text, lock: lockInput() }).then(() => console.log('written'), (e) => { console.error(e.message); process.exit(3); });
`,
    );
    // Writes past 64 KiB fail with EFBIG (the signal ignored), like a full disk fails with ENOSPC.
    const run = await execa(
      'bash',
      ['-c', `trap '' XFSZ; ulimit -f 64; exec node --import tsx "$0" "$1"`, script, ws.root],
      { cwd: repoRoot, reject: false },
    );
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain(`writing ${ws.path('rubrics/big.v1.txt')} failed: EFBIG`);
    expect(readdirSync(ws.path('rubrics'))).toEqual([]);
  }, 60_000);
});
