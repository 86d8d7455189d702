import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { PermanentTaskError } from '../../src/core/task-errors.ts';
import { createBuiltinTasks } from '../../src/tasks/builtin/builtin-tasks.ts';
import { renderCsv } from '../../src/tasks/builtin/report-format.ts';
import { createReportGenerationTask } from '../../src/tasks/builtin/report-generation.ts';
import type { ReportQuery, ReportRow, ReportSource } from '../../src/tasks/builtin/report-source.ts';
import { salesDemoSource } from '../../src/tasks/builtin/sales-demo-source.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { taskContext } from './builtin-context.ts';

let artifacts: string;
beforeAll(() => {
  artifacts = mkdtempSync(join(tmpdir(), 'conveyor-artifacts-'));
});
afterAll(() => rmSync(artifacts, { recursive: true, force: true }));

/** Rows built to break naive writers: formulas, quotes, commas, line breaks, markup, negatives, nulls. */
const TRICKY: ReportRow[] = [
  { name: '=HYPERLINK("http://evil.example","click")', amount: -5, note: 'plain' },
  { name: '+1+1', amount: 0.1, note: 'has, a comma' },
  { name: '-2', amount: 1e21, note: 'a "quoted" word' },
  { name: '@SUM(A1)', amount: null, note: 'two\r\nlines' },
  { name: '<script>alert(1)</script>', amount: 3, note: "it's & <b>bold</b>" },
  { name: '\tTAB', amount: 42, note: null },
  { name: 'Ünïcödé ✓', amount: 7, note: '' },
];

/** A source that hands back fixed rows and remembers what it was asked. */
function fixedSource(rows: ReportRow[]): ReportSource & { queries: ReportQuery[] } {
  const queries: ReportQuery[] = [];
  return { name: 'fixture', description: 'fixed rows for tests', columns: ['name', 'amount', 'note'], queries, rows: async (query) => (queries.push(query), rows) };
}

/** RFC 4180, read back independently of the writer. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') record.push(field), (field = '');
    else if (char === '\r' && text[i + 1] === '\n') record.push(field), records.push(record), (record = []), (field = ''), i++;
    else field += char;
  }
  return records;
}

const unformula = (cell: string) => (/^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell);

describe('report_generation', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));

  it('writes a CSV whose rows read back equal to the rows the source produced', async () => {
    const source = fixedSource(TRICKY);
    const task = createReportGenerationTask({ artifactsDir: artifacts, sources: [source] }, clock);
    const context = taskContext({ createdBy: 'user-1' });
    const output = (await task.handler({ report_type: 'fixture', start_date: '2024-01-01', end_date: '2024-01-31', format: 'csv' }, context)) as { path: string; rows: number; bytes: number; format: string };
    expect(output).toMatchObject({ path: join(artifacts, `${context.taskId}.csv`), rows: TRICKY.length, format: 'csv' });
    const text = readFileSync(output.path, 'utf8');
    expect(Buffer.byteLength(text)).toBe(output.bytes);
    const [header, ...records] = parseCsv(text);
    expect(header).toEqual(['name', 'amount', 'note']);
    expect(records).toHaveLength(TRICKY.length);
    records.forEach((record, i) => {
      const row = TRICKY[i]!;
      expect(unformula(record[0]!)).toBe(row.name);
      expect(record[1]).toBe(row.amount === null ? '' : String(row.amount));
      expect(record[2]).toBe(row.note ?? '');
    });
    // The source was asked for the whole of January (end date included) on behalf of the task's creator.
    expect(source.queries[0]).toMatchObject({ start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-02-01T00:00:00Z'), createdBy: 'user-1' });
  });

  it('defuses spreadsheet formulas in text cells but leaves numbers alone', () => {
    const csv = renderCsv(['v'], [{ v: '=1+2' }, { v: '+1' }, { v: '-1' }, { v: '@x' }, { v: -1 }, { v: 'a=b' }]);
    expect(csv).toBe("v\r\n'=1+2\r\n'+1\r\n'-1\r\n'@x\r\n-1\r\na=b\r\n");
  });

  it('writes JSON with exactly the source rows', async () => {
    const task = createReportGenerationTask({ artifactsDir: artifacts, sources: [fixedSource(TRICKY)] }, clock);
    const output = (await task.handler({ report_type: 'fixture', start_date: '2024-01-01', end_date: '2024-01-01', format: 'json' }, taskContext())) as { path: string };
    const report = JSON.parse(readFileSync(output.path, 'utf8'));
    expect(report.rows).toEqual(TRICKY);
    expect(report).toMatchObject({ report_type: 'fixture', row_count: TRICKY.length, start: '2024-01-01T00:00:00.000Z', end: '2024-01-02T00:00:00.000Z', generated_at: '2026-01-01T00:00:00.000Z' });
  });

  it('writes HTML with every value escaped', async () => {
    const task = createReportGenerationTask({ artifactsDir: artifacts, sources: [fixedSource(TRICKY)] }, clock);
    const output = (await task.handler({ report_type: 'fixture', start_date: '2024-01-01', end_date: '2024-01-02', format: 'html' }, taskContext())) as { path: string };
    const html = readFileSync(output.path, 'utf8');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('it&#39;s &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(html).toContain('=HYPERLINK(&quot;http://evil.example&quot;,&quot;click&quot;)');
    expect(html).toContain("Content-Security-Policy");
    expect(html.match(/<tr>/g)).toHaveLength(TRICKY.length + 1);
  });

  it("completes the guide's example (sales, no format: CSV) from the labelled demo source", async () => {
    const [, , , , report] = createBuiltinTasks({
      dataDir: artifacts,
      email: { from: 'conveyor@example.org', outboxDir: '' },
      webhook: { secret: '', allowHosts: [], timeoutMs: 1000 },
      fileCleanup: { roots: [] },
      reports: { artifactsDir: artifacts, sources: [] },
      clock,
    });
    const payload = { report_type: 'sales', start_date: '2024-01-01', end_date: '2024-01-31' };
    const registry = new TaskRegistry().register(report!);
    registry.validatePayload('report_generation', payload);
    const context = taskContext();
    const output = (await report!.handler(payload, context)) as { path: string; rows: number; format: string };
    expect(output).toMatchObject({ path: join(artifacts, `${context.taskId}.csv`), rows: 31, format: 'csv' });
    const [header, first, ...rest] = parseCsv(readFileSync(output.path, 'utf8'));
    expect(header).toEqual(['date', 'orders', 'units', 'revenue']);
    expect(first![0]).toBe('2024-01-01');
    expect(rest.at(-1)![0]).toBe('2024-01-31');
    // Deterministic: the same range gives the same figures.
    const again = await salesDemoSource.rows({ start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-02-01T00:00:00Z'), createdBy: null, signal: new AbortController().signal });
    expect(again[0]).toEqual({ date: '2024-01-01', orders: Number(first![1]), units: Number(first![2]), revenue: Number(first![3]) });
  });

  it('refuses an unknown report_type when the task is created', () => {
    const task = createReportGenerationTask({ artifactsDir: artifacts, sources: [fixedSource([]), salesDemoSource] }, clock);
    const registry = new TaskRegistry().register(task);
    expect(() => registry.validatePayload('report_generation', { report_type: 'payroll', start_date: '2024-01-01', end_date: '2024-01-31' })).toThrow(/report_type/);
    expect(JSON.stringify(task.payload.properties.report_type)).toContain('"const":"fixture"');
    expect(task.payload.properties.report_type.description).toBe('One of: fixture, sales');
    expect(() => registry.validatePayload('report_generation', { report_type: 'sales', start_date: '2024-01-01', end_date: '2024-01-31', format: 'pdf' })).toThrow();
    expect(() => registry.validatePayload('report_generation', { report_type: 'sales', start_date: 'yesterday', end_date: '2024-01-31' })).toThrow();
  });

  it('fails permanently on a backwards or impossible range, and writes an empty report with its header', async () => {
    const task = createReportGenerationTask({ artifactsDir: artifacts, sources: [fixedSource([])] }, clock);
    await expect(task.handler({ report_type: 'fixture', start_date: '2024-02-01', end_date: '2024-01-01' }, taskContext())).rejects.toBeInstanceOf(PermanentTaskError);
    await expect(task.handler({ report_type: 'fixture', start_date: '2024-02-30', end_date: '2024-03-01' }, taskContext())).rejects.toThrow(/not a real date/);
    const output = (await task.handler({ report_type: 'fixture', start_date: '2024-01-01T06:00:00Z', end_date: '2024-01-01T18:00:00+02:00' }, taskContext())) as { path: string; rows: number };
    expect(output.rows).toBe(0);
    expect(readFileSync(output.path, 'utf8')).toBe('name,amount,note\r\n');
  });
});
