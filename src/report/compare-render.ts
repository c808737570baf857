// `arr compare` output: a text table, CSV and a self-contained HTML page (inline SVG chart of accuracy
// with its 95% interval per experiment, the baseline as a second mark, the parameter table, links to
// each verify report). Plain data in, strings out.
import { esc } from './html.js';
import { formatTable } from './table.js';

export interface CompareRow {
  name: string;
  params: Record<string, unknown>;
  metrics: Record<string, number | null>;
  states: Record<string, string>;
}

export interface CompareView {
  experiments: CompareRow[];
  differing: string[];
}

const PERCENT = new Set(['accuracy', 'ci_low', 'ci_high', 'baseline', 'agreement']);

/** A cell as the table shows it: rates in percent, gain in points, missing as `-`. */
export function formatCell(column: string, value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') {
    if (PERCENT.has(column)) return `${(value * 100).toFixed(1)}%`;
    if (column === 'gain') return `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}`;
    if (column === 'cost') return value.toFixed(4);
    return String(value);
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The columns in order: name, differing parameters, metrics, target states. */
export function columnsOf(view: CompareView): { name: string; kind: 'name' | 'param' | 'metric' | 'state' }[] {
  const first = view.experiments[0];
  return [
    { name: 'name', kind: 'name' as const },
    ...view.differing.map((name) => ({ name, kind: 'param' as const })),
    ...Object.keys(first?.metrics ?? {}).map((name) => ({ name, kind: 'metric' as const })),
    ...Object.keys(first?.states ?? {}).map((name) => ({ name, kind: 'state' as const })),
  ];
}

function cellOf(row: CompareRow, col: { name: string; kind: string }): unknown {
  if (col.kind === 'name') return row.name;
  if (col.kind === 'param') return row.params[col.name];
  if (col.kind === 'metric') return row.metrics[col.name];
  return row.states[col.name];
}

/** A fixed-width table; the accuracy column carries its interval. */
export function renderCompareTable(view: CompareView): string {
  const cols = columnsOf(view).filter((c) => c.name !== 'ci_low' && c.name !== 'ci_high');
  const text = (row: CompareRow, col: { name: string; kind: string }) => {
    if (col.name === 'accuracy' && row.metrics.accuracy !== null) {
      return `${formatCell('accuracy', row.metrics.accuracy)} [${formatCell('ci_low', row.metrics.ci_low)}, ${formatCell('ci_high', row.metrics.ci_high)}]`;
    }
    return formatCell(col.name, cellOf(row, col));
  };
  const cells = [cols.map((c) => c.name), ...view.experiments.map((r) => cols.map((c) => text(r, c)))];
  return formatTable(cells);
}

const csvCell = (value: unknown): string => {
  const s =
    value === null || value === undefined
      ? ''
      : typeof value === 'string'
        ? value
        : typeof value === 'number' || typeof value === 'boolean'
          ? String(value)
          : JSON.stringify(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** CSV (RFC 4180 quoting) with raw numbers, one header row named as in the JSON. */
export function renderCompareCsv(view: CompareView): string {
  const cols = columnsOf(view);
  const lines = [
    cols.map((c) => csvCell(c.name)).join(','),
    ...view.experiments.map((r) => cols.map((c) => csvCell(cellOf(r, c))).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d232b;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
.muted{color:#5b6570}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #dde2e7;padding:4px 10px;text-align:left;white-space:nowrap}
th{background:#f3f5f7;position:sticky;top:0}
td.num{text-align:right}
.state-fresh{color:#1f7a3a}.state-stale{color:#a15c00}.state-never{color:#8a929b}
svg text{font:12px system-ui,sans-serif;fill:#1d232b}
.legend span{display:inline-block;margin-right:16px}
.swatch{display:inline-block;width:12px;height:12px;vertical-align:-1px;margin-right:4px}
`;

/** Horizontal bars would hide the interval; this draws a dot per experiment with its whisker, and the baseline as a diamond. */
function chartSvg(view: CompareView): string {
  const rows = view.experiments;
  const rowH = 28;
  const left = Math.min(360, 12 + Math.max(60, ...rows.map((r) => r.name.length * 7)));
  const plotW = 520;
  const top = 24;
  const height = top + rows.length * rowH + 30;
  const x = (v: number) => left + v * plotW;
  const parts: string[] = [];
  for (let t = 0; t <= 10; t += 2) {
    const v = t / 10;
    parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${top - 6}" y2="${height - 26}" stroke="#e3e7eb"/>`);
    parts.push(`<text x="${x(v)}" y="${height - 10}" text-anchor="middle">${t * 10}%</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    parts.push(`<text class="label" x="${left - 8}" y="${y + 4}" text-anchor="end">${esc(r.name)}</text>`);
    const { accuracy, ci_low, ci_high, baseline } = r.metrics;
    if (ci_low !== null && ci_high !== null) {
      parts.push(
        `<line class="ci" x1="${x(ci_low)}" x2="${x(ci_high)}" y1="${y}" y2="${y}" stroke="#2f6fb3" stroke-width="2"/>`,
      );
      for (const v of [ci_low, ci_high])
        parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${y - 5}" y2="${y + 5}" stroke="#2f6fb3" stroke-width="2"/>`);
    }
    if (accuracy !== null)
      parts.push(
        `<circle class="accuracy" cx="${x(accuracy)}" cy="${y}" r="5" fill="#2f6fb3"><title>${esc(r.name)}: accuracy ${formatCell('accuracy', accuracy)} (95% CI ${formatCell('ci_low', ci_low)}–${formatCell('ci_high', ci_high)})</title></circle>`,
      );
    else parts.push(`<text x="${left + 4}" y="${y + 4}" class="muted">not verified</text>`);
    if (baseline !== null) {
      const bx = x(baseline);
      parts.push(
        `<path class="baseline" d="M${bx} ${y - 6}L${bx + 6} ${y}L${bx} ${y + 6}L${bx - 6} ${y}Z" fill="#d0782a"><title>${esc(r.name)}: baseline ${formatCell('baseline', baseline)}</title></path>`,
      );
    }
  });
  return `<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="${left + plotW + 30}" height="${height}" role="img" aria-label="accuracy with 95% interval per experiment">${parts.join('')}</svg>`;
}

/**
 * The comparison as one HTML file with nothing to fetch (inline CSS and SVG, no script; a CSP says so).
 * `reportLinks` maps an experiment to the href of its verify report (relative to the page).
 */
export function renderCompareHtml(
  view: CompareView,
  reportLinks: ReadonlyMap<string, string>,
  generated = new Date().toISOString(),
): string {
  const cols = columnsOf(view);
  const head = cols.map((c) => `<th class="${c.kind}">${esc(c.name)}</th>`).join('') + '<th>verify report</th>';
  const body = view.experiments
    .map((r) => {
      const tds = cols.map((c) => {
        const v = cellOf(r, c);
        const cls = c.kind === 'state' ? `state-${String(v).split(' ')[0]}` : typeof v === 'number' ? 'num' : '';
        return `<td class="${cls}">${esc(formatCell(c.name, v))}</td>`;
      });
      const link = reportLinks.get(r.name);
      tds.push(
        `<td>${link ? `<a class="report" href="${esc(link)}">report</a>` : '<span class="muted">none</span>'}</td>`,
      );
      return `<tr class="experiment" data-name="${esc(r.name)}">${tds.join('')}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>ARR compare: ${view.experiments.length} experiment(s)</title>
<style>${CSS}</style></head>
<body>
<header><h1>ARR compare</h1><p class="muted">${view.experiments.length} experiment(s) · generated ${esc(generated)} · from the artifacts in cache/ (no judge call)</p></header>
<section id="accuracy"><h2>Accuracy with 95% interval</h2>
<p class="legend"><span><i class="swatch" style="background:#2f6fb3"></i>with the rubric (dot, whisker: 95% CI)</span><span><i class="swatch" style="background:#d0782a"></i>baseline, no rubric</span></p>
${chartSvg(view)}
</section>
<section id="params"><h2>Parameters that differ${view.differing.length ? '' : ': none'}</h2>
<table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table></section>
</body></html>
`;
}
