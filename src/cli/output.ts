import { CliError, EXIT } from './cli-error.ts';

/**
 * Output helpers for operator commands: plain tables for people, JSON for scripts.
 *
 * The JSON rule, the same for every command: `--json` prints one JSON object on stdout (never a bare
 * array), and nothing else; errors go to stderr as text and the exit code says which. A list is
 * `{"items": [...], "total": n, "next_cursor": c}` (next_cursor null on the last page, total null when
 * not counted; task lists add `total_is_exact`, false when counting stopped at 10,000 and total is a lower bound); one thing is that thing in the API's shape; an action on several things is
 * `{"items": [{"id", "outcome", ...}]}`; a count is named for what it counts (`{"deleted": 3}`).
 */

export function printJson(value: object): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A list in the JSON rule's shape (see above). */
export function printJsonList(items: readonly unknown[], page: { total?: number | null; nextCursor?: string | null; totalIsExact?: boolean } = {}): void {
  printJson({
    items,
    total: page.total === undefined ? items.length : page.total,
    ...(page.totalIsExact === undefined ? {} : { total_is_exact: page.totalIsExact }),
    next_cursor: page.nextCursor ?? null,
  });
}

/** A list's total for people: "1,234", or "10,000+" when counting stopped at the cap. */
export function formatListTotal(page: { total: number | null; totalIsExact: boolean }): string {
  if (page.total === null) return '?';
  return `${page.total.toLocaleString('en-US')}${page.totalIsExact ? '' : '+'}`;
}

export function println(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export interface Column {
  header: string;
  /** Right-align (numbers). */
  right?: boolean;
  /** Longer cells are cut with an ellipsis. */
  max?: number;
}

/** A table with a header row, columns padded to their widest cell, two spaces apart. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  const cells = rows.map((row) => columns.map((column, i) => truncate(cellText(row[i]), column.max)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => (columns[i]!.right ? value.padStart(widths[i]!) : value.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

function cellText(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return String(value).replace(/\s+/g, ' ');
}

export function truncate(text: string, max?: number): string {
  if (max === undefined || text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** 950ms, 42s, 5m 02s, 3h 07m, 2d 04h: short and sortable by eye. */
export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
}

/** "5m 02s ago", or "in 30s" for a time ahead of `now`. */
export function formatAgo(at: Date | null, now: Date): string {
  if (at === null) return '-';
  const delta = now.getTime() - at.getTime();
  return delta >= 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(-delta)}`;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A duration given on the command line: `500ms`, `90s`, `15m`, `2h`, `7d`, `2w`, or combinations such
 * as `1h30m`. A bare number is refused (is `--older-than 7` seven seconds or seven days?) unless the
 * flag says its unit, as `stats --watch [seconds]` does: pass `bareUnitMs` for that. Throws a usage
 * error naming the flag.
 */
export function parseDuration(text: string, flag: string, options: { bareUnitMs?: number } = {}): number {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    if (options.bareUnitMs !== undefined) return Math.round(Number(trimmed) * options.bareUnitMs);
    throw new CliError(`${flag} needs a unit: ${trimmed}d, ${trimmed}h, ${trimmed}m or ${trimmed}s (a bare number is ambiguous); got ${JSON.stringify(text)}`, EXIT.USAGE);
  }
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw new CliError(`${flag} must be a duration such as 90s, 15m, 2h, 7d or 1h30m; got ${JSON.stringify(text)}`, EXIT.USAGE);
  }
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]!]!, 0));
}

/** A whole number flag within bounds, or a usage error naming the flag. */
export function parseIntFlag(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw new CliError(`${flag} must be a whole number from ${min} to ${max}; got ${JSON.stringify(text)}`, EXIT.USAGE);
  }
  return value;
}

/** A comma-separated flag, each value one of `allowed`. */
export function parseListFlag<T extends string>(text: string | undefined, flag: string, allowed?: readonly T[]): T[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (allowed) {
    const bad = values.filter((v) => !(allowed as readonly string[]).includes(v));
    if (bad.length > 0) throw new CliError(`${flag}: ${bad.join(', ')} is not one of ${allowed.join(', ')}`, EXIT.USAGE);
  }
  return values as T[];
}

/** A flag's JSON value; a usage error naming the flag when it is not JSON. */
export function parseJsonFlag(text: string, flag: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${flag} is not valid JSON: ${(error as Error).message}`, EXIT.USAGE);
  }
}
