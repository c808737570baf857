// report.html of the verify target: the escaping and thumbnails in Node, then what a reader sees in a
// real browser (Debian's chromium driven by playwright-core): the numbers, the checks' wording, one row
// per item, every thumbnail loaded, a <script> in a reason shown as text, and no network request.
//
// The browser part needs chromium (`apt-get install -y chromium`, or CHROMIUM_PATH). Without it the
// test fails and says how to install it, unless ARR_SKIP_BROWSER_TESTS=1 skips it on purpose.
// ARR_KEEP_REPORT_DIR=1 keeps the temp dir (report.html and report.png) and prints its path.
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRef } from '../../src/data/types.js';
import { esc } from '../../src/report/html.js';
import { makeThumbnails, type ThumbnailImage } from '../../src/report/thumbnails.js';
import { renderVerifyHtml } from '../../src/report/verify-html.js';
import type { VerifyReport } from '../../src/types/verify-report.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'arr-verify-html-')));
afterAll(() => {
  if (process.env.ARR_KEEP_REPORT_DIR === '1') console.log(`report kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

const SCRIPT = '<script>alert(1)</script>';
const file = (path: string): ImageRef => ({ kind: 'file', path });

/** A recognisable test picture: a coloured background with a white disc, a bar and a label-ish stripe. */
async function png(name: string, width: number, height: number, bg: string, fg = '#ffffff'): Promise<string> {
  const r = Math.round(Math.min(width, height) / 4);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="${bg}"/>
    <circle cx="${width / 2}" cy="${height / 2}" r="${r}" fill="${fg}"/>
    <rect x="${width / 10}" y="${(height * 4) / 5}" width="${(width * 4) / 5}" height="${height / 12}" fill="#222"/>
  </svg>`;
  const path = join(dir, name);
  writeFileSync(path, await sharp(Buffer.from(svg)).png().toBuffer());
  return path;
}

type Item = VerifyReport['with_rubric']['items'][number];

/** The fixture: an edit, pairwise, both-orders report whose accuracy check fails. */
function fixture(): VerifyReport {
  const items: Item[] = [
    {
      index: 0,
      query: 'Make the sky a sunset orange',
      label: { rank: [1, 2] },
      predicted: { rank: [1, 2] },
      correct: true,
      verdict: 'agree',
      orders: [
        { order: [0, 1], rank: [1, 2], reason: 'Image 1 follows the instruction; image 2 left the sky blue.' },
        { order: [1, 0], rank: [1, 2], reason: 'The orange sky is in the first image.', cached: true },
      ],
    },
    {
      // A wrong verdict (both orders agree on the wrong winner); the baseline got it right.
      index: 1,
      query: 'Remove the red car from the street',
      label: { rank: [2, 1] },
      predicted: { rank: [1, 2] },
      correct: false,
      verdict: 'agree',
      orders: [
        { order: [0, 1], rank: [1, 2], reason: 'Image 1 keeps the street texture intact.' },
        { order: [1, 0], rank: [1, 2], reason: 'Image 1 has fewer artifacts.' },
      ],
    },
    {
      // The two orders disagree: no verdict stands.
      index: 2,
      query: 'Add a hat to the dog',
      label: { rank: [1, 2] },
      predicted: null,
      correct: false,
      verdict: 'disagree',
      orders: [
        { order: [0, 1], rank: [1, 2], reason: 'The hat in image 1 fits the head.' },
        { order: [1, 0], rank: [2, 1], reason: 'The second image shown has the better hat.' },
      ],
    },
    {
      // A failed judgement with raw replies (one of them HTML-looking).
      index: 3,
      query: 'Turn the photo into a pencil sketch',
      label: { rank: [2, 1] },
      predicted: null,
      correct: false,
      verdict: 'failed',
      orders: [
        {
          order: [0, 1],
          error: 'invalid answer after 2 re-asks: no JSON object found',
          replies: ['I think both are fine.', '<b>Rank</b>: image 2 & image 1?'],
        },
        { order: [1, 0], rank: [2, 1], reason: 'Image 2 is a convincing sketch.' },
      ],
    },
    {
      // Right with the rubric, wrong in the baseline; the reason carries a script tag.
      index: 4,
      query: 'Replace the text on the sign with "OPEN" & keep the font',
      label: { rank: [1, 2] },
      predicted: { rank: [1, 2] },
      correct: true,
      verdict: 'agree',
      orders: [
        { order: [0, 1], rank: [1, 2], reason: `Image 1 reads OPEN. Judge echoed ${SCRIPT} from the sign.` },
        { order: [1, 0], rank: [1, 2], reason: 'Same: the sign in image 1 says OPEN.' },
      ],
    },
    {
      // Images that cannot be shown: a missing file, an undecodable file, a remote URL.
      index: 5,
      query: 'Brighten the room',
      label: { rank: [1, 2] },
      predicted: { rank: [1, 2] },
      correct: true,
      verdict: 'agree',
      orders: [
        { order: [0, 1], rank: [1, 2], reason: 'Image 1 is brighter without blown highlights.' },
        { order: [1, 0], rank: [1, 2], reason: 'Image 1 again.' },
      ],
    },
  ];
  // The baseline: right on items 1 and 5, the reversed ranking elsewhere.
  const baseline: Item[] = items.map((it) => {
    const right = it.index === 1 || it.index === 5;
    const labelRank = (it.label as { rank: number[] }).rank;
    const rank = right ? labelRank : [...labelRank].reverse();
    return {
      index: it.index,
      query: it.query,
      label: it.label,
      predicted: { rank },
      correct: right,
      verdict: 'agree',
      orders: [
        { order: [0, 1], rank, reason: `baseline reason for item ${it.index}` },
        { order: [1, 0], rank, reason: `baseline reason (reversed) for item ${it.index}` },
      ],
    };
  });
  return {
    schema: 1,
    kind: 'verify-report',
    experiment: 'edit-demo',
    key: 'verify-3f9a0c1b2d4e',
    task: 'edit',
    mode: 'pairwise',
    model: 'qwen2.5-vl-7b-instruct',
    test: 'data/edit/test.jsonl',
    both_orders: true,
    rubric: {
      sha256: 'a'.repeat(64),
      text: `# Rubric for image edits\n\n1. The edit follows the instruction exactly (weight 3).\n2. Regions the instruction does not mention are unchanged.\n3. No artifacts: <seams>, halos & smears.\n\n${SCRIPT}`,
      source: 'rubrics/edit-demo.md',
    },
    with_rubric: {
      summary: {
        total: 6,
        judged: 6,
        correct: 3,
        accuracy: 0.5,
        ci95: [0.1876, 0.8124],
        agreement: 0.8,
        disagreements: 1,
        failures: 1,
        stoppedBy: null,
      },
      items,
    },
    baseline: {
      summary: {
        total: 6,
        judged: 6,
        correct: 2,
        accuracy: 1 / 3,
        ci95: [0.0968, 0.7],
        agreement: 1,
        disagreements: 0,
        failures: 0,
        stoppedBy: null,
      },
      items: baseline,
    },
    gain: 0.5 - 1 / 3,
    thresholds: { min_accuracy: 0.6, min_agreement: 0.7, min_gain: 0.05 },
    checks: [
      { name: 'verify.min_accuracy', value: 0.5, threshold: 0.6, passed: false },
      { name: 'verify.min_agreement', value: 0.8, threshold: 0.7, passed: true },
      { name: 'verify.min_gain', value: 0.5 - 1 / 3, threshold: 0.05, passed: true },
    ],
    passed: false,
    usage: {
      calls: 22,
      cached: 2,
      retries: 1,
      reasks: 2,
      failures: 1,
      promptTokens: 48210,
      completionTokens: 3120,
      cost: null,
    },
    started: '2025-06-01T10:00:00.000Z',
    finished: '2025-06-01T10:02:13.000Z',
  };
}

/** Sources and candidates for the fixture's items, as the verify target would pass them. */
async function fixtureImages(): Promise<{ index: number; source?: ImageRef; candidates: ImageRef[] }[]> {
  const colours = ['#3b6db3', '#c0392b', '#27ae60', '#8e44ad', '#d35400'];
  const out: { index: number; source?: ImageRef; candidates: ImageRef[] }[] = [];
  for (let i = 0; i < 5; i++) {
    out.push({
      index: i,
      source: file(await png(`src-${i}.png`, 640, 480, '#7f8c8d')),
      candidates: [
        file(await png(`c-${i}-a.png`, 640, 480, colours[i])),
        file(await png(`c-${i}-b.png`, 480, 640, colours[(i + 2) % 5], '#f1c40f')),
      ],
    });
  }
  const corrupt = join(dir, 'corrupt.png');
  writeFileSync(corrupt, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.from('not really a png')]));
  out.push({
    index: 5,
    source: { kind: 'url', url: 'https://example.com/room.jpg' },
    candidates: [file(join(dir, 'missing.png')), file(corrupt)],
  });
  return out;
}

describe('renderVerifyHtml (string)', () => {
  it('escapes every report text and draws no script', () => {
    const html = renderVerifyHtml(fixture(), new Map());
    expect(html).not.toContain(SCRIPT);
    expect(html).toContain(esc(SCRIPT));
    expect(html).toContain('&lt;b&gt;Rank&lt;/b&gt;: image 2 &amp; image 1?');
    expect(html).toContain('&quot;OPEN&quot; &amp; keep the font');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("default-src 'none'");
    expect((html.match(/<tr class="item /g) ?? []).length).toBe(6);
  });

  it('never puts a non-inline image in the page', () => {
    const html = renderVerifyHtml(
      fixture(),
      new Map([
        [
          0,
          {
            source: 'https://example.com/a.png',
            candidates: ['file:///etc/x.png', { url: 'data:image/png;base64,AAAA', note: 'x' }],
          },
        ],
      ]),
    );
    expect(html).not.toMatch(/src="(?!data:image\/)/);
    expect(html).toContain('not an inline image: https://example.com/a.png');
  });

  it('words each check with its measured value and threshold', () => {
    const html = renderVerifyHtml(fixture(), new Map());
    expect(html).toContain('<b>FAILED</b> verify.min_accuracy: 0.50 &lt; 0.60');
    expect(html).toContain('<b>PASSED</b> verify.min_agreement: 0.80 ≥ 0.70');
    // Values that round alike get more decimals rather than "0.60 < 0.60".
    const r = fixture();
    r.checks = [{ name: 'verify.min_accuracy', value: 0.5999, threshold: 0.6, passed: false }];
    expect(renderVerifyHtml(r)).toContain('verify.min_accuracy: 0.5999 &lt; 0.6000');
  });

  it('says why a failed verify failed and what to do, escaped', () => {
    const r = fixture();
    expect(renderVerifyHtml(r)).not.toContain('id="diagnosis"');
    r.diagnosis = [
      {
        cause: 'position-bias',
        finding: `agreement 10% ${SCRIPT}`,
        actions: ['run `arr judge doctor --experiment edit-demo`', 'keep verify.both_orders: true'],
      },
    ];
    const html = renderVerifyHtml(r);
    expect(html).toContain('<section id="diagnosis">');
    expect(html).toContain('<b>position-bias</b>: agreement 10% &lt;script&gt;');
    expect(html).toContain('<li>keep verify.both_orders: true</li>');
  });

  it('marks the wrong verdict, the regression and the fix', () => {
    const html = renderVerifyHtml(fixture(), new Map());
    const row = (i: number) => html.match(new RegExp(`<tr class="([^"]*)" id="item-${i}"`))?.[1].split(' ') ?? [];
    expect(row(1)).toEqual(expect.arrayContaining(['wrong', 'incorrect', 'regressed']));
    expect(row(2)).toEqual(expect.arrayContaining(['disagree', 'incorrect']));
    expect(row(2)).not.toContain('wrong');
    expect(row(3)).toEqual(expect.arrayContaining(['failed', 'incorrect']));
    expect(row(4)).toEqual(expect.arrayContaining(['correct', 'fixed']));
    expect(row(0)).not.toContain('incorrect');
  });
});

describe('makeThumbnails', () => {
  it('makes small JPEGs and placeholders with a reason, never throwing', async () => {
    const thumbs = await makeThumbnails(await fixtureImages(), { side: 96, concurrency: 2 });
    expect([...thumbs.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const first = thumbs.get(0)!;
    expect(first.source?.url).toMatch(/^data:image\/jpeg;base64,/);
    expect(first.source?.note).toBeUndefined();
    const meta = await sharp(Buffer.from(first.candidates[1].url.split(',')[1], 'base64')).metadata();
    expect(meta.format).toBe('jpeg');
    expect(Math.max(meta.width!, meta.height!)).toBe(96);
    const bad = thumbs.get(5)!;
    const notes = [bad.source!, ...bad.candidates].map((t: ThumbnailImage) => t.note ?? '');
    expect(notes[0]).toMatch(/remote image, not fetched: https:\/\/example\.com\/room\.jpg/);
    expect(notes[1]).toMatch(/missing\.png: file not found/);
    expect(notes[2]).toMatch(/corrupt\.png: \S/);
    const drawn = (url: string) =>
      decodeURIComponent(url)
        .replace(/<[^>]*>/g, ' ')
        .replace(/\s+/g, ' ');
    expect(drawn(bad.candidates[0].url)).toContain('image not found');
    expect(drawn(bad.candidates[1].url)).toContain('image cannot be decoded');
    for (const t of [bad.source!, ...bad.candidates]) expect(t.url).toMatch(/^data:image\/svg\+xml/);
  });

  it('decodes data: refs', async () => {
    const bytes = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    const url = `data:image/png;base64,${bytes.toString('base64')}`;
    const thumbs = await makeThumbnails([
      {
        index: 7,
        candidates: [
          { kind: 'data', url, mime: 'image/png' },
          { kind: 'data', url: 'data:image/png;base64,AAAA', mime: 'image/png' },
        ],
      },
    ]);
    const [good, broken] = thumbs.get(7)!.candidates;
    expect(good.url).toMatch(/^data:image\/jpeg;base64,/);
    expect(broken.url).toMatch(/^data:image\/svg\+xml/);
    expect(broken.note).toBeTruthy();
  });
});

// --- In a browser ------------------------------------------------------------------------------------

const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find(
  (p): p is string => Boolean(p) && existsSync(p!),
);
const skipBrowser = !chromiumPath && process.env.ARR_SKIP_BROWSER_TESTS === '1';
const INSTALL_HINT =
  'chromium is needed for the report.html browser test and was not found at /usr/bin/chromium (or CHROMIUM_PATH). ' +
  'Install it with `apt-get update && apt-get install -y chromium` (Debian), point CHROMIUM_PATH at a Chromium/Chrome binary, ' +
  'or set ARR_SKIP_BROWSER_TESTS=1 to skip this test on purpose.';

describe('report.html in chromium', () => {
  type Seen = {
    text: Record<string, string>;
    rows: number;
    visibleAfterFilter: number;
    images: { src: string; ok: boolean; w: number }[];
    scripts: number;
    scriptTextVisible: boolean;
    requests: string[];
    dialogs: string[];
    wrongRows: number;
  };
  let seen: Seen | undefined;
  const reportPath = join(dir, 'out', 'report.html');
  const screenshot = join(dir, 'out', 'report.png');

  beforeAll(async () => {
    if (skipBrowser || !chromiumPath) return;
    const thumbs = await makeThumbnails(await fixtureImages());
    mkdirSync(join(dir, 'out'), { recursive: true });
    writeFileSync(reportPath, renderVerifyHtml(fixture(), thumbs));

    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--headless=new'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const requests: string[] = [];
      const dialogs: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const url = pathToFileURL(reportPath).href;
      await page.goto(url, { waitUntil: 'load' });
      const text: Record<string, string> = {};
      for (const id of ['summary', 'checks', 'rubric']) text[id] = await page.locator(`#${id}`).innerText();
      text.header = await page.locator('header').innerText();
      const images = await page.$$eval('img', (imgs) =>
        imgs.map((img) => ({ src: img.src.slice(0, 30), ok: img.complete, w: img.naturalWidth })),
      );
      const scriptTextVisible = await page.getByText(SCRIPT, { exact: false }).first().isVisible();
      const scripts = await page.locator('script').count();
      const rows = await page.locator('tr.item').count();
      const wrongRows = await page.locator('tr.item.wrong').count();
      await page.screenshot({ path: screenshot, fullPage: true });
      // The CSS-only filter: tick it and only the rows the rubric missed stay visible.
      await page.locator('label[for="only-wrong"]').click();
      const visibleAfterFilter = await page.locator('tr.item:visible').count();
      expect(requests, 'the request listener saw the page itself').toContain(url);
      seen = {
        text,
        rows,
        visibleAfterFilter,
        images,
        scripts,
        scriptTextVisible,
        requests: requests.filter((r) => r !== url),
        dialogs,
        wrongRows,
      };
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('shows the header, summary and checks as a reader sees them', (ctx) => {
    if (skipBrowser) ctx.skip('ARR_SKIP_BROWSER_TESTS=1 and no chromium: browser test skipped');
    if (!seen) throw new Error(INSTALL_HINT);
    expect(seen.text.header).toContain('edit-demo');
    expect(seen.text.header).toContain('qwen2.5-vl-7b-instruct');
    expect(seen.text.header).toContain('data/edit/test.jsonl');
    expect(seen.text.header).toMatch(/Both orders\s+yes/);
    expect(seen.text.header).toContain('FAILED');
    expect(seen.text.summary).toMatch(/Accuracy \(rubric\)\s+0\.50\s+95% CI 0\.19–0\.81 · 3\/6 correct/);
    expect(seen.text.summary).toMatch(/Baseline accuracy\s+0\.33/);
    expect(seen.text.summary).toMatch(/Gain\s+\+0\.17/);
    expect(seen.text.summary).toMatch(/Agreement\s+0\.80/);
    expect(seen.text.checks).toContain('FAILED verify.min_accuracy: 0.50 < 0.60');
    expect(seen.text.checks).toContain('PASSED verify.min_agreement: 0.80 ≥ 0.70');
    expect(seen.text.rubric).toContain('No artifacts: <seams>, halos & smears.');
  });

  it('has one row per item, marks the wrong verdict, and filters with CSS alone', (ctx) => {
    if (skipBrowser) ctx.skip('ARR_SKIP_BROWSER_TESTS=1 and no chromium: browser test skipped');
    if (!seen) throw new Error(INSTALL_HINT);
    expect(seen.rows).toBe(6);
    expect(seen.wrongRows).toBe(1);
    expect(seen.visibleAfterFilter).toBe(3); // the wrong verdict, the disagreement, the failure
  });

  it('loads every thumbnail, shows the script tag as text, and makes no request', (ctx) => {
    if (skipBrowser) ctx.skip('ARR_SKIP_BROWSER_TESTS=1 and no chromium: browser test skipped');
    if (!seen) throw new Error(INSTALL_HINT);
    expect(seen.images).toHaveLength(6 * 3);
    for (const img of seen.images) expect(img, JSON.stringify(img)).toMatchObject({ ok: true });
    expect(seen.images.filter((i) => i.w <= 0)).toEqual([]);
    expect(seen.scriptTextVisible).toBe(true);
    expect(seen.scripts).toBe(0);
    expect(seen.dialogs).toEqual([]);
    expect(seen.requests).toEqual([]);
    expect(existsSync(screenshot)).toBe(true);
  });
});
