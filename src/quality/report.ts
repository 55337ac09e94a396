import type { QualityStore, TableRecord } from '../core/quality-store.js';
import { checkRowOfRecord, displayValue, resultCells, sortRows, type CheckRow } from './results.js';
import { tableScore, type TableScore } from './score.js';

/*
 * `weir quality report`: one static, self-contained HTML file (inline CSS and SVG, no scripts, no
 * external assets) from the quality history: per table its score and trend, its latest checks,
 * failures with samples, and sparklines of row count and score over runs.
 */

export interface ReportTable {
  readonly asset: string;
  readonly score: TableScore;
  readonly rows: readonly CheckRow[];
  /** Table snapshots, oldest first. */
  readonly history: readonly TableRecord[];
}

export interface ReportData {
  readonly project: string;
  readonly generatedAt: string;
  readonly tables: readonly ReportTable[];
}

/** Reads the report's data from the store: every asset (or the given ones), last `runs` runs. */
export async function collectReportData(
  store: QualityStore,
  options: { project: string; now: Date; runs?: number; assets?: readonly string[] },
): Promise<ReportData> {
  const runs = options.runs ?? 30;
  const assets = options.assets ?? (await store.assets());
  const tables: ReportTable[] = [];
  for (const asset of assets) {
    const score = await tableScore(store, asset, runs);
    tables.push({
      asset,
      score,
      rows: sortRows(score.checks.map(checkRowOfRecord)),
      history: await store.tableHistory(asset, runs),
    });
  }
  return { project: options.project, generatedAt: options.now.toISOString(), tables };
}

export function htmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * An inline SVG sparkline. The scale is [min, max] (defaults: the values' range); a single point is
 * drawn as a dot. `label` becomes the SVG's accessible title.
 */
export function sparklineSvg(
  values: readonly number[],
  options: { label: string; width?: number; height?: number; min?: number; max?: number },
): string {
  const width = options.width ?? 160;
  const height = options.height ?? 32;
  const pad = 3;
  const lo = options.min ?? Math.min(...values);
  const hi = options.max ?? Math.max(...values);
  const span = hi - lo || 1;
  const x = (i: number): number =>
    values.length === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (values.length - 1);
  const y = (v: number): number => height - pad - ((v - lo) / span) * (height - 2 * pad);
  const pts = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  const last = values.length - 1;
  const body =
    values.length === 0
      ? ''
      : `${values.length > 1 ? `<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="${pts.join(' ')}"/>` : ''}<circle cx="${x(last).toFixed(1)}" cy="${y(values[last] ?? 0).toFixed(1)}" r="2.5" fill="currentColor"/>`;
  return `<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${htmlEscape(options.label)}"><title>${htmlEscape(options.label)}</title>${body}</svg>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1d2330;background:#fafbfc}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:0}
.meta{color:#5b6475;margin-bottom:1.5rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{overflow-wrap:anywhere;text-align:left;padding:.3rem .6rem;border-bottom:1px solid #e3e6ec;vertical-align:top}
th{background:#f0f2f6;font-weight:600}
section.asset{overflow-x:auto;background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}
.head{display:flex;flex-wrap:wrap;align-items:center;gap:1.5rem}
.score{font-size:1.6rem;font-weight:700}
.good{color:#1a7f37}.fair{color:#9a6700}.poor{color:#cf222e}.none{color:#5b6475}
.status{font-weight:600;text-transform:uppercase;font-size:.8rem}
.s-pass{color:#1a7f37}.s-warn{color:#9a6700}.s-fail,.s-error{color:#cf222e}.s-skipped{color:#5b6475}
.spark{color:#3b5bdb;vertical-align:middle}.chart{font-size:.8rem;color:#5b6475}
.failure{border-left:3px solid #cf222e;padding:.25rem .75rem;margin:.75rem 0;background:#fff5f5}
.failure.s-warn{border-color:#9a6700;background:#fffbeb}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em}
`;

function scoreClass(score: number | null): string {
  if (score === null) return 'none';
  return score >= 90 ? 'good' : score >= 70 ? 'fair' : 'poor';
}

function sampleTable(rows: ReadonlyArray<Readonly<Record<string, unknown>>>): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const head = cols.map((c) => `<th>${htmlEscape(c)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${cols.map((c) => `<td>${htmlEscape(displayValue(r[c]))}</td>`).join('')}</tr>`)
    .join('');
  return `<table class="samples"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function tableSection(t: ReportTable, index: number): string {
  const latest = t.score.latest;
  const s = latest?.score ?? null;
  const change =
    t.score.change === null
      ? ''
      : ` <span class="meta">(${t.score.change >= 0 ? '+' : ''}${t.score.change} vs previous run)</span>`;
  const scores = t.score.trend.map((p) => p.score).filter((v): v is number => v !== null);
  const counts = t.history.map((h) => h.rowCount);
  const charts: string[] = [];
  if (scores.length)
    charts.push(
      `<div class="chart">score over ${scores.length} run${scores.length === 1 ? '' : 's'}<br>${sparklineSvg(scores, { label: `${t.asset} quality score over runs: ${scores.join(', ')}`, min: 0, max: 100 })}</div>`,
    );
  if (counts.length)
    charts.push(
      `<div class="chart">row count over ${counts.length} run${counts.length === 1 ? '' : 's'} (last ${counts.at(-1) ?? ''})<br>${sparklineSvg(counts, { label: `${t.asset} row count over runs: ${counts.join(', ')}`, min: 0 })}</div>`,
    );
  const checkRows = t.rows
    .map((r) => {
      const c = resultCells(r);
      return `<tr class="check"><td>${htmlEscape(r.name)}</td><td>${htmlEscape(r.type)}${r.column ? ` <code>${htmlEscape(r.column)}</code>` : ''}</td><td>${htmlEscape(r.severity)}</td><td class="status s-${r.status}">${r.status}</td><td>${htmlEscape(c.observed)}</td><td>${htmlEscape(c.unexpected)}</td></tr>`;
    })
    .join('\n');
  const failures = t.rows
    .filter((r) => r.status !== 'pass')
    .map((r) => {
      const values = r.samples.length
        ? `<p>sample unexpected values: ${r.samples.map((v) => `<code>${htmlEscape(displayValue(v))}</code>`).join(', ')}</p>`
        : '';
      const rows = r.sampleRows.length ? sampleTable(r.sampleRows) : '';
      return `<div class="failure s-${r.status}"><p><strong>${htmlEscape(r.name)}</strong> <span class="status s-${r.status}">${r.status}</span>: ${htmlEscape(r.message)}</p>${values}${rows}</div>`;
    })
    .join('\n');
  return `<section class="asset" id="t${index}" data-asset="${htmlEscape(t.asset)}">
<div class="head"><h2>${htmlEscape(t.asset)}</h2><div><span class="score ${scoreClass(s)}">${s === null ? '–' : s}</span>${s === null ? '' : ' / 100'}${change}</div>${charts.join('')}</div>
<p class="meta">${latest ? `latest checks: run <code>${htmlEscape(latest.runId)}</code> at ${htmlEscape(latest.at)} — ${latest.passed} passed, ${latest.warned} warned, ${latest.failed} failed, ${latest.errored} errored` : 'no checks recorded'}</p>
${t.rows.length ? `<table class="checks"><thead><tr><th>check</th><th>type</th><th>severity</th><th>status</th><th>observed</th><th>unexpected</th></tr></thead><tbody>\n${checkRows}\n</tbody></table>` : ''}
${failures ? `<h3>Failures</h3>\n${failures}` : ''}
</section>`;
}

export function renderQualityReport(data: ReportData): string {
  const overview = data.tables
    .map((t, i) => {
      const s = t.score.latest?.score ?? null;
      return `<tr><td><a href="#t${i}">${htmlEscape(t.asset)}</a></td><td class="${scoreClass(s)}">${s === null ? '–' : s}</td><td>${t.score.latest?.checks ?? 0}</td><td>${t.history.at(-1)?.rowCount ?? ''}</td></tr>`;
    })
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Data quality report: ${htmlEscape(data.project)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>Data quality report: ${htmlEscape(data.project)}</h1>
<p class="meta">generated ${htmlEscape(data.generatedAt)} · ${data.tables.length} table${data.tables.length === 1 ? '' : 's'} · score = 100 × (1 − penalty / weight), weights error 3, warn 1</p>
<table class="overview"><thead><tr><th>table</th><th>score</th><th>checks</th><th>rows</th></tr></thead><tbody>
${overview}
</tbody></table>
${data.tables.map(tableSection).join('\n')}
</body>
</html>
`;
}
