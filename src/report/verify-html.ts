// report.html for the verify target: one self-contained page a reviewer opens to judge a rubric.
//
// Everything is inline: CSS in a <style>, thumbnails as data: URLs, no script at all. A Content-Security-
// Policy meta tag forbids scripts and any non-data: image, so even a bug in the escaping below could not
// run code or make the page fetch anything. Every piece of text that comes from the report (queries,
// reasons, rubric, raw replies, errors, names) goes through `esc`.
//
// The "only items the rubric got wrong" filter is a checkbox with a CSS sibling rule (no JS).
import type { VerifyReport } from '../types/verify-report.js';
import { esc } from './html.js';
import { type ItemThumbnails, placeholderDataUrl, type Thumbnail } from './thumbnails.js';

type Pass = VerifyReport['with_rubric'];
type Item = Pass['items'][number];
type Order = Item['orders'][number];

// ---------------------------------------------------------------------------------------------------
// Formatting

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/** Two numbers at the fewest decimals (2..6) that keep them apart, so "0.60 < 0.60" never shows. */
function fmtPair(a: number, b: number): [string, string] {
  for (let d = 2; d <= 6; d++) {
    const [x, y] = [fixed(a, d), fixed(b, d)];
    if (x !== y || a === b) return [x, y];
  }
  return [String(a), String(b)];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${fixed(Math.abs(x), 2)}`;

/** A label or prediction: `#2 > #1` for ranks (best first, 1-based candidates), `score 4` for scores. */
function fmtVerdict(v: object | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const rec = v as { rank?: unknown; score?: unknown };
  if (Array.isArray(rec.rank) && rec.rank.every((r) => typeof r === 'number')) {
    const ranks = rec.rank as number[];
    return ranks
      .map((r, i) => ({ r, i }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map(({ i }) => `#${i + 1}`)
      .join(' > ');
  }
  if (typeof rec.score === 'number') return `score ${rec.score}`;
  const json = JSON.stringify(v);
  return json === '{}' ? '—' : json;
}

function fmtOrder(o: Order): string {
  const shown = `shown ${o.order.map((i) => `#${i + 1}`).join(' then ')}`;
  const got = o.rank
    ? fmtVerdict({ rank: o.rank })
    : o.score !== undefined
      ? `score ${o.score}`
      : o.error
        ? 'failed'
        : '—';
  return `${shown} → ${got}${o.cached ? ' (cached)' : ''}`;
}

// ---------------------------------------------------------------------------------------------------
// The page

const CSS = `
:root { --ok:#1a7f37; --ok-bg:#dafbe1; --bad:#cf222e; --bad-bg:#ffebe9; --warn:#9a6700; --warn-bg:#fff8c5; --muted:#57606a; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:#1f2328; margin: 0; padding: 24px 32px 64px; background:#fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.banner { display:inline-block; font-weight: 700; padding: 3px 10px; border-radius: 6px; margin: 6px 0; }
.banner.pass { color: var(--ok); background: var(--ok-bg); border: 1px solid var(--ok); }
.banner.fail { color: var(--bad); background: var(--bad-bg); border: 1px solid var(--bad); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; }
.card .k { color: var(--muted); font-size: 12px; }
.card .v { font-size: 20px; font-weight: 650; }
.card .s { color: var(--muted); font-size: 12px; }
ul.checks { list-style: none; padding: 0; margin: 0; }
ul.checks li { padding: 6px 10px; margin: 4px 0; border-radius: 6px; border-left: 5px solid; font-family: ui-monospace, Menlo, Consolas, monospace; }
ul.checks li.pass { border-color: var(--ok); background: var(--ok-bg); }
ul.checks li.fail { border-color: var(--bad); background: var(--bad-bg); }
ul.checks b { margin-right: 2px; }
li.pass b { color: var(--ok); } li.fail b { color: var(--bad); }
pre.rubric { white-space: pre-wrap; overflow-wrap: anywhere; background:#f6f8fa; border:1px solid var(--line); border-radius: 6px; padding: 12px; max-height: 480px; overflow: auto; }
.filter { display: inline-block; margin: 0 0 10px; padding: 4px 10px; border: 1px solid var(--line); border-radius: 6px; cursor: pointer; user-select: none; }
#only-wrong { margin-right: 6px; }
#only-wrong:checked ~ table.items tbody tr.item:not(.incorrect) { display: none; }
#only-wrong:checked ~ .filter { background: var(--warn-bg); border-color: var(--warn); }
table.items { border-collapse: collapse; width: 100%; }
table.items th, table.items td { border-bottom: 1px solid var(--line); padding: 8px 6px; vertical-align: top; text-align: left; }
table.items th { position: sticky; top: 0; background: #fff; font-size: 12px; color: var(--muted); font-weight: 600; z-index: 1; }
tr.item td:first-child { border-left: 5px solid transparent; }
tr.item.wrong td:first-child { border-left-color: var(--bad); }
tr.item.wrong { background: #fff5f5; }
tr.item.disagree td:first-child, tr.item.failed td:first-child { border-left-color: var(--warn); }
tr.item.skipped { color: var(--muted); }
.marker { display: inline-block; font-size: 11px; font-weight: 700; padding: 1px 6px; border-radius: 10px; margin-top: 4px; }
.marker.wrong { color: #fff; background: var(--bad); }
.marker.regressed { color: var(--bad); border: 1px solid var(--bad); }
.marker.fixed { color: var(--ok); border: 1px solid var(--ok); }
.thumbs { display: flex; gap: 6px; flex-wrap: nowrap; }
figure { margin: 0; text-align: center; }
figure img { display: block; max-width: 128px; max-height: 128px; border: 1px solid var(--line); border-radius: 3px; background: #fafafa; }
figure.source img { border: 2px dashed #8c959f; }
figcaption { font-size: 11px; color: var(--muted); }
.badge { display: inline-block; font-size: 11px; font-weight: 700; padding: 1px 7px; border-radius: 10px; text-transform: uppercase; letter-spacing: .02em; }
.badge.agree, .badge.single { color: var(--ok); background: var(--ok-bg); }
.badge.disagree { color: var(--warn); background: var(--warn-bg); }
.badge.failed { color: var(--bad); background: var(--bad-bg); }
.badge.skipped { color: var(--muted); background: #eaeef2; }
.pred { white-space: nowrap; }
.pred.right { color: var(--ok); font-weight: 600; }
.pred.wrong { color: var(--bad); font-weight: 600; }
.query { max-width: 260px; overflow-wrap: anywhere; }
.reasons { max-width: 520px; }
.reason { margin: 0 0 6px; overflow-wrap: anywhere; white-space: pre-wrap; }
.reason .o { display: block; font-size: 11px; color: var(--muted); }
.error { color: var(--bad); font-weight: 600; overflow-wrap: anywhere; }
details { margin: 4px 0; }
details summary { cursor: pointer; color: var(--muted); font-size: 12px; }
details pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa; border: 1px solid var(--line); padding: 6px; margin: 4px 0; max-height: 260px; overflow: auto; }
`;

function thumbFigure(t: Thumbnail | undefined, caption: string, cls: string): string {
  let url: string;
  let note: string | undefined;
  if (t === undefined) [url, note] = [placeholderDataUrl('no thumbnail'), 'no thumbnail'];
  else if (typeof t === 'string') url = t;
  else [url, note] = [t.url, t.note];
  // Only inline images: anything else would make the page fetch (and the CSP would block it anyway).
  if (!/^data:image\//i.test(url))
    [url, note] = [placeholderDataUrl('not inlined'), `not an inline image: ${url.slice(0, 80)}`];
  const alt = note ? `${caption}: ${note}` : caption;
  return `<figure class="${cls}"><img src="${esc(url)}" alt="${esc(alt)}"${note ? ` title="${esc(note)}"` : ''} loading="eager"><figcaption>${esc(caption)}${note ? ' ⚠' : ''}</figcaption></figure>`;
}

function candidateCount(item: Item, thumbs: ItemThumbnails | undefined): number {
  const label = item.label as { rank?: unknown[] };
  const fromOrders = Math.max(0, ...item.orders.map((o) => o.order.length));
  return Math.max(thumbs?.candidates.length ?? 0, Array.isArray(label.rank) ? label.rank.length : 0, fromOrders, 1);
}

function reasonsHtml(orders: Order[]): string {
  if (!orders.length) return '<span class="muted">—</span>';
  return orders
    .map((o) => {
      const head = `<span class="o">${esc(fmtOrder(o))}</span>`;
      const parts = [head];
      if (o.reason !== undefined && o.reason !== '') parts.push(esc(o.reason));
      if (o.error !== undefined) parts.push(`<span class="error">${esc(o.error)}</span>`);
      let html = `<div class="reason">${parts.join('')}</div>`;
      if (o.replies && o.replies.length) {
        const replies = o.replies
          .map((r, i) => `<div class="muted">reply ${i + 1} of ${o.replies!.length}</div><pre>${esc(r)}</pre>`)
          .join('');
        html += `<details class="replies"><summary>raw replies (${o.replies.length})</summary>${replies}</details>`;
      }
      return html;
    })
    .join('');
}

function predictionCell(item: Item | undefined): string {
  if (!item) return '<td class="muted">—</td>';
  const cls = item.predicted === null ? '' : item.correct ? 'right' : 'wrong';
  const mark = item.predicted === null ? '' : item.correct ? ' ✓' : ' ✗';
  return `<td><div class="pred ${cls}">${esc(fmtVerdict(item.predicted))}${mark}</div><span class="badge ${esc(item.verdict)}">${esc(item.verdict)}</span></td>`;
}

function itemRow(
  item: Item,
  base: Item | undefined,
  thumbs: ItemThumbnails | undefined,
  task: VerifyReport['task'],
): string {
  const judged = item.verdict !== 'skipped';
  // "wrong": the rubric gave a standing verdict and it contradicts the label (the clearest miss).
  const wrong = judged && item.predicted !== null && !item.correct;
  const incorrect = judged && !item.correct;
  const regressed = incorrect && base !== undefined && base.correct;
  const fixed = item.correct && base !== undefined && base.verdict !== 'skipped' && !base.correct;
  const classes = [
    'item',
    item.verdict,
    item.correct ? 'correct' : '',
    incorrect ? 'incorrect' : '',
    wrong ? 'wrong' : '',
    regressed ? 'regressed' : '',
    fixed ? 'fixed' : '',
  ]
    .filter(Boolean)
    .join(' ');

  const n = candidateCount(item, thumbs);
  const figures: string[] = [];
  if (task === 'edit' || thumbs?.source !== undefined) figures.push(thumbFigure(thumbs?.source, 'source', 'source'));
  for (let i = 0; i < n; i++) figures.push(thumbFigure(thumbs?.candidates[i], `#${i + 1}`, 'candidate'));

  const markers = [
    wrong ? '<span class="marker wrong" title="The rubric\'s verdict contradicts the label">WRONG</span>' : '',
    regressed ? '<span class="marker regressed" title="The baseline got this item right">regressed</span>' : '',
    fixed ? '<span class="marker fixed" title="The baseline got this item wrong">fixed</span>' : '',
  ].filter(Boolean);

  let reasons = reasonsHtml(item.orders);
  if (base && base.orders.length)
    reasons += `<details class="baseline"><summary>baseline reasons</summary>${reasonsHtml(base.orders)}</details>`;

  return (
    `<tr class="${esc(classes)}" id="item-${esc(item.index)}">` +
    `<td><b>${esc(item.index)}</b>${markers.length ? `<div>${markers.join('<br>')}</div>` : ''}</td>` +
    `<td class="query">${esc(item.query)}</td>` +
    `<td><div class="thumbs">${figures.join('')}</div></td>` +
    `<td class="pred">${esc(fmtVerdict(item.label))}</td>` +
    predictionCell(item) +
    predictionCell(base) +
    `<td class="reasons">${reasons}</td>` +
    `</tr>`
  );
}

function checkLine(c: VerifyReport['checks'][number]): string {
  const word = c.passed ? 'PASSED' : 'FAILED';
  let detail: string;
  if (c.value === null) detail = `not measured (threshold ${fixed(c.threshold, 2)})`;
  else {
    const [v, t] = fmtPair(c.value, c.threshold);
    detail = `${v} ${c.passed ? '≥' : '<'} ${t}`;
  }
  return `<li class="check ${c.passed ? 'pass' : 'fail'}"><b>${word}</b> ${esc(c.name)}: ${esc(detail)}</li>`;
}

function card(key: string, value: string, sub = ''): string {
  return `<div class="card"><div class="k">${esc(key)}</div><div class="v">${esc(value)}</div>${sub ? `<div class="s">${esc(sub)}</div>` : ''}</div>`;
}

function summaryCards(r: VerifyReport): string {
  const s = r.with_rubric.summary;
  const b = r.baseline?.summary;
  const cards = [
    card(
      'Accuracy (rubric)',
      fixed(s.accuracy, 2),
      `95% CI ${fixed(s.ci95[0], 2)}–${fixed(s.ci95[1], 2)} · ${s.correct}/${s.judged} correct`,
    ),
    card(
      'Agreement',
      s.agreement === null ? 'n/a' : fixed(s.agreement, 2),
      s.agreement === null ? 'one order judged' : plural(s.disagreements, 'disagreement'),
    ),
    card(
      'Baseline accuracy',
      b ? fixed(b.accuracy, 2) : 'n/a',
      b ? `95% CI ${fixed(b.ci95[0], 2)}–${fixed(b.ci95[1], 2)} · ${b.correct}/${b.judged} correct` : 'no baseline run',
    ),
    card('Gain', r.gain === null ? 'n/a' : signed(r.gain), 'rubric − baseline'),
    card('Failures', String(s.failures), b ? `baseline: ${b.failures}` : ''),
    card('Judged', `${s.judged}/${s.total}`, s.stoppedBy ? `stopped: ${s.stoppedBy}` : 'items'),
  ];
  return `<div class="cards">${cards.join('')}</div>`;
}

/** Why the verify failed and what to do, when the report carries a diagnosis. */
function diagnosisSection(r: VerifyReport): string {
  const d = r.diagnosis ?? [];
  if (!d.length) return '';
  const items = d
    .map(
      (x) =>
        `<li class="cause-${esc(x.cause)}"><p><b>${esc(x.cause)}</b>: ${esc(x.finding)}</p><ul>${x.actions.map((a) => `<li>${esc(a)}</li>`).join('')}</ul></li>`,
    )
    .join('');
  return `<section id="diagnosis">\n<h2>Why it failed and what to do</h2>\n<ul class="diagnosis">${items}</ul>\n</section>\n`;
}

/**
 * The verify report as one self-contained HTML page. `thumbnails` maps an item's `index` to its
 * thumbnails as data: URLs (see `makeThumbnails`); missing ones show as placeholders.
 */
export function renderVerifyHtml(
  report: VerifyReport,
  thumbnails: ReadonlyMap<number, ItemThumbnails> = new Map(),
): string {
  const r = report;
  const baseByIndex = new Map((r.baseline?.items ?? []).map((it) => [it.index, it] as const));
  const items = r.with_rubric.items;
  const wrongCount = items.filter((it) => it.verdict !== 'skipped' && it.predicted !== null && !it.correct).length;
  const incorrectCount = items.filter((it) => it.verdict !== 'skipped' && !it.correct).length;
  const u = r.usage;
  const title = `verify ${r.experiment}: ${r.passed ? 'PASSED' : 'FAILED'}`;

  const meta: [string, string][] = [
    ['Experiment', r.experiment],
    ['Model', r.model],
    ['Test set', r.test],
    ['Task / mode', `${r.task} · ${r.mode}`],
    ['Both orders', r.both_orders ? 'yes, each pair judged in both orders' : 'no, one order per item'],
    ['Rubric', `${r.rubric.source} (sha256 ${r.rubric.sha256.slice(0, 12)})`],
    ['Key', r.key],
    ['Run', `${r.started} → ${r.finished}`],
    [
      'Usage',
      `${plural(u.calls, 'call')}, ${u.cached} cached, ${plural(u.retries, 'retry', 'retries')}, ${plural(u.reasks, 're-ask')}, ${plural(u.failures, 'failure')}, ${u.promptTokens} prompt + ${u.completionTokens} completion tokens${u.cost === null ? '' : `, cost ${u.cost.toFixed(4)}`}`,
    ],
  ];

  const rows = items.map((it) => itemRow(it, baseByIndex.get(it.index), thumbnails.get(it.index), r.task)).join('\n');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Verify report: ${esc(r.experiment)}</h1>
<div class="banner ${r.passed ? 'pass' : 'fail'}">${r.passed ? 'PASSED: every check met its threshold' : `FAILED: ${r.checks.filter((c) => !c.passed).length} of ${r.checks.length} checks below threshold`}</div>
<dl class="meta">${meta.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
</header>

<section id="summary">
<h2>Summary</h2>
${summaryCards(r)}
</section>

<section id="checks">
<h2>Checks</h2>
${r.checks.length ? `<ul class="checks">${r.checks.map(checkLine).join('')}</ul>` : '<p class="muted">No checks.</p>'}
</section>
${diagnosisSection(r)}
<section id="rubric">
<h2>Rubric</h2>
<pre class="rubric">${esc(r.rubric.text)}</pre>
</section>

<section id="items">
<h2>Items (${items.length}; ${incorrectCount} not correct with the rubric, ${wrongCount} with a wrong verdict)</h2>
<input type="checkbox" id="only-wrong"><label class="filter" for="only-wrong">Show only items the rubric did not get right (${incorrectCount})</label>
<table class="items">
<thead><tr><th>#</th><th>Query</th><th>Images</th><th>Label</th><th>With rubric</th><th>Baseline</th><th>Reasons</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>
</body>
</html>
`;
}
