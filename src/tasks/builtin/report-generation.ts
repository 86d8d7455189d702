import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { systemClock, type Clock } from '../../core/clock.ts';
import { PermanentTaskError } from '../../core/task-errors.ts';
import { defineTask, type TaskDefinition } from '../define-task.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { externalId } from './external-id.ts';
import { REPORT_FORMATS, renderReport, type ReportFormat } from './report-format.ts';
import type { ReportCell, ReportRow, ReportSource } from './report-source.ts';

export interface ReportSettings {
  /** Report files go here, named `<task-id>.<format>`; GET /tasks/:id/artifact serves them to the task's owner (and moderators, admins). */
  artifactsDir: string;
  sources: readonly ReportSource[];
}

export const MAX_REPORT_ROWS = 200_000;
const MAX_RANGE_DAYS = 3_660;
const DAY_MS = 86_400_000;
/** A date (`2024-01-31`, the whole day) or an ISO instant with its offset (`2024-01-31T12:00:00Z`). */
const DATE_OR_INSTANT = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))?$';
const DATE_MESSAGE = 'must be a date such as 2024-01-31 or an instant such as 2024-01-31T12:00:00Z';
const EXTENSIONS: Record<ReportFormat, string> = { csv: 'csv', json: 'json', html: 'html' };

function reportPayload(names: readonly string[]) {
  return Type.Object(
    {
      // An enum of the known sources: an unknown report_type is refused when the task is created.
      report_type: Type.Union(names.map((name) => Type.Literal(name)), { description: `One of: ${names.join(', ')}` }),
      start_date: Type.String({ pattern: DATE_OR_INSTANT, description: 'First day (YYYY-MM-DD) or instant of the range', errorMessage: DATE_MESSAGE }),
      end_date: Type.String({ pattern: DATE_OR_INSTANT, description: 'Last day, included (YYYY-MM-DD), or the instant the range ends', errorMessage: DATE_MESSAGE }),
      format: Type.Optional(Type.Union(REPORT_FORMATS.map((name) => Type.Literal(name)), { default: 'csv', description: 'csv (default), json or html' })),
    },
    { additionalProperties: false },
  );
}

/**
 * `report_generation`: asks the named source for the rows of a date range and writes them as a CSV,
 * JSON or HTML file to the artifacts folder. A date-only end_date includes that whole day.
 */
export function createReportGenerationTask(settings: ReportSettings, clock: Clock = systemClock): TaskDefinition<ReturnType<typeof reportPayload>> {
  const sources = new Map<string, ReportSource>();
  for (const source of settings.sources) {
    if (sources.has(source.name)) throw new Error(`two report sources are named "${source.name}"`);
    sources.set(source.name, source);
  }
  if (sources.size === 0) throw new Error('report_generation needs at least one report source');
  const names = [...sources.keys()];
  const example = (type: string) => (sources.has(type) ? [type] : []);

  return defineTask({
    name: 'report_generation',
    description: `Writes a report file (csv, json or html) for a date range. Report types: ${names.map((name) => `${name} (${sources.get(name)!.description})`).join('; ')}`,
    payload: reportPayload(names),
    examples: [
      ...example('sales').map((type) => ({ report_type: type, start_date: '2024-01-01', end_date: '2024-01-31' })),
      ...example('task_activity').map((type) => ({ report_type: type, start_date: '2024-01-01', end_date: '2024-01-31', format: 'html' as const })),
    ],
    timeoutMs: 300_000,
    async handler(payload, context) {
      const source = sources.get(payload.report_type);
      if (source === undefined) throw new PermanentTaskError(`payload.report_type must be one of ${names.join(', ')}`);
      const start = parseBound(payload.start_date, 'start_date', false);
      const end = parseBound(payload.end_date, 'end_date', true);
      if (end.getTime() <= start.getTime()) throw new PermanentTaskError('payload.end_date must not be before payload.start_date');
      if (end.getTime() - start.getTime() > MAX_RANGE_DAYS * DAY_MS) throw new PermanentTaskError(`a report covers at most ${MAX_RANGE_DAYS} days`);
      const format = payload.format ?? 'csv';

      const rows = await source.rows({ start, end, createdBy: context.createdBy, signal: context.signal });
      if (context.signal.aborted) throw context.signal.reason;
      if (rows.length > MAX_REPORT_ROWS) throw new PermanentTaskError(`the report has ${rows.length} rows, more than ${MAX_REPORT_ROWS}; narrow the range`);
      await context.progress({ percent: 60, message: `${rows.length} rows read` }).catch(() => {});

      const columns = source.columns.length > 0 ? source.columns : Object.keys(rows[0] ?? {});
      const text = renderReport(format, {
        reportType: source.name,
        description: source.description,
        start: start.toISOString(),
        end: end.toISOString(),
        generatedAt: clock.now().toISOString(),
        columns,
        rows: rows.map(cleanRow),
      });
      const bytes = Buffer.from(text, 'utf8');
      const file = `${externalId(context.taskId)}.${EXTENSIONS[format]}`;
      const path = join(settings.artifactsDir, file);
      await writeFileAtomic(path, bytes);
      context.logger.info({ reportType: source.name, rows: rows.length, bytes: bytes.length, format }, 'report written');
      return { path, file, rows: rows.length, bytes: bytes.length, format, report_type: source.name, start: start.toISOString(), end: end.toISOString() };
    },
  });
}

/** A date means its whole UTC day: as a start, its first instant; as an (inclusive) end, the next day's. */
function parseBound(text: string, field: string, isEnd: boolean): Date {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const at = new Date(dateOnly ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(at.getTime()) || (dateOnly && at.toISOString().slice(0, 10) !== text)) {
    throw new PermanentTaskError(`payload.${field}: ${text} is not a real date`);
  }
  return dateOnly && isEnd ? new Date(at.getTime() + DAY_MS) : at;
}

/** Sources are code we trust, but a NaN or an object in a cell would still corrupt the file. */
function cleanRow(row: ReportRow): ReportRow {
  const clean: ReportRow = {};
  for (const [key, value] of Object.entries(row)) clean[key] = cleanCell(value);
  return clean;
}

function cleanCell(value: unknown): ReportCell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}
