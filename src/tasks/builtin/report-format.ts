import type { ReportCell, ReportRow } from './report-source.ts';

export const REPORT_FORMATS = ['csv', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportDocument {
  reportType: string;
  description: string;
  /** ISO instants; end exclusive. */
  start: string;
  end: string;
  generatedAt: string;
  columns: readonly string[];
  rows: readonly ReportRow[];
}

export function renderReport(format: ReportFormat, report: ReportDocument): string {
  switch (format) {
    case 'csv':
      return renderCsv(report.columns, report.rows);
    case 'json':
      return renderJson(report);
    case 'html':
      return renderHtml(report);
  }
}

/**
 * RFC 4180: CRLF line ends, a field holding a comma, quote or line break is quoted and its quotes
 * doubled. Text that a spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a
 * leading apostrophe (OWASP's CSV injection advice); numbers are written as numbers, so -5 stays -5.
 */
export function renderCsv(columns: readonly string[], rows: readonly ReportRow[]): string {
  const lines = [columns.map((name) => csvField(name)).join(',')];
  for (const row of rows) lines.push(columns.map((name) => csvField(row[name] ?? null)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function csvField(cell: ReportCell): string {
  if (cell === null) return '';
  if (typeof cell === 'number') return String(cell);
  const text = /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function renderJson(report: ReportDocument): string {
  return `${JSON.stringify(
    {
      report_type: report.reportType,
      description: report.description,
      start: report.start,
      end: report.end,
      generated_at: report.generatedAt,
      columns: report.columns,
      row_count: report.rows.length,
      rows: report.rows.map((row) => Object.fromEntries(report.columns.map((name) => [name, row[name] ?? null]))),
    },
    null,
    2,
  )}\n`;
}

/** Every piece of text is escaped; the page runs no script and loads nothing (its own CSP says so). */
function renderHtml(report: ReportDocument): string {
  const head = report.columns.map((name) => `<th>${escapeHtml(name)}</th>`).join('');
  const body = report.rows
    .map((row) => `<tr>${report.columns.map((name) => cellHtml(row[name] ?? null)).join('')}</tr>`)
    .join('\n');
  const title = `${report.reportType} report`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3rem .6rem}td.n{text-align:right;font-variant-numeric:tabular-nums}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(report.description)}</p>
<p>From ${escapeHtml(report.start)} to ${escapeHtml(report.end)} (exclusive); generated ${escapeHtml(report.generatedAt)}; ${report.rows.length} rows.</p>
<table>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table>
</body>
</html>
`;
}

function cellHtml(cell: ReportCell): string {
  if (cell === null) return '<td></td>';
  if (typeof cell === 'number') return `<td class="n">${escapeHtml(String(cell))}</td>`;
  return `<td>${escapeHtml(cell)}</td>`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}
