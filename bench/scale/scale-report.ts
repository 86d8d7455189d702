/**
 * The tables of `npm run bench -- --scale`: the issue's targets with a `met` column, every read's
 * p50/p99, and the prune cycles. Printed after a run and written into docs/benchmarks-scale.md.
 */
import { formatValue } from '../report/format.ts';
import type { TableSize } from './history-store.ts';
import type { PruneCycle } from './prune-cycles.ts';
import type { ScaleEngineResult, ScaleRecord } from './scale-record.ts';

/** The sizes the issue's targets are stated at. */
export const TARGET_ROWS = { postgres: 10_000_000, sqlite: 1_000_000 } as const;
const READ_P99_MS = 50;
const DASHBOARD_PER_SECOND = 2;
const DRAIN_RATIO = 0.9;
const PRUNE_DAY_SECONDS = 30;
/** Flat: the size after the last cycle within this share of the size before the measured cycles. */
export const FLAT_GROWTH = 0.02;

const ENGINE_LABEL = { postgres: 'PostgreSQL', sqlite: 'SQLite' } as const;
const n = (value: number) => Math.round(value).toLocaleString('en-US');
const mib = (bytes: number) => `${formatValue(bytes / 2 ** 20, 'MiB')} MiB`;
const met = (ok: boolean | null) => (ok === null ? 'n/a' : ok ? 'yes' : '**no**');

export function engineHeading(result: ScaleEngineResult): string {
  const full = result.rows >= TARGET_ROWS[result.engine];
  return `${ENGINE_LABEL[result.engine]}, ${n(result.rows)} finished tasks${full ? '' : ` (smaller than the ${n(TARGET_ROWS[result.engine])} the targets are set at)`}`;
}

export function targetsTable(record: ScaleRecord): string {
  const rows: string[] = ['| engine | target | measured | met |', '|---|---|---|---|'];
  for (const e of record.engines) {
    const label = `${ENGINE_LABEL[e.engine]} (${n(e.rows)})`;
    const slowest = e.reads.reduce<{ read: string; p99Ms: number } | null>((worst, r) => (worst === null || r.p99Ms > worst.p99Ms ? r : worst), null);
    rows.push(`| ${label} | every API read p99 ≤ ${READ_P99_MS} ms | ${slowest ? `slowest: ${slowest.read} ${formatValue(slowest.p99Ms, 'ms')} ms` : 'not measured'} | ${met(slowest ? slowest.p99Ms <= READ_P99_MS : null)} |`);
    if (e.engine === 'postgres') {
      const d = e.dashboard;
      const perSecond = d ? (d.statementsPerSecond ?? d.transactionsPerSecond) : null;
      rows.push(
        `| ${label} | open dashboard ≤ ${DASHBOARD_PER_SECOND} statements/s | ${perSecond === null ? 'not measured' : `${formatValue(perSecond, '')}/s (${d!.statementsPerSecond === null ? 'pg_stat_database transactions' : 'pg_stat_statements calls'}; the API's engine calls ${formatValue(d!.engineCallsPerSecond, '')}/s; ${d!.streams} streams)`} | ${met(perSecond === null ? null : perSecond <= DASHBOARD_PER_SECOND)} |`,
      );
    }
    const drain = e.drain;
    rows.push(`| ${label} | drain ≥ ${DRAIN_RATIO * 100} % of an empty database | ${drain ? `${(drain.ratio * 100).toFixed(0)} % (${n(drain.history)} vs ${n(drain.empty)} tasks/s)` : 'not measured'} | ${met(drain ? drain.ratio >= DRAIN_RATIO : null)} |`);
    const cycles = e.prune?.cycles ?? [];
    const slowestPrune = cycles.length > 0 ? Math.max(...cycles.map((c) => c.pruneSeconds)) : null;
    const pruneTarget = e.engine === 'postgres';
    rows.push(
      `| ${label} | prune a day (${n(e.rows / 7)} tasks) ${pruneTarget ? `< ${PRUNE_DAY_SECONDS} s` : '(no target on SQLite)'} | ${slowestPrune === null ? 'not measured' : `slowest of ${cycles.length}: ${formatValue(slowestPrune, '')} s`} | ${pruneTarget ? met(slowestPrune === null ? null : slowestPrune < PRUNE_DAY_SECONDS) : 'n/a'} |`,
    );
    const { baseline, measured } = flatSpan(e);
    const first = baseline?.totalBytes;
    const last = measured.at(-1)?.size.totalBytes;
    rows.push(
      `| ${label} | table size flat over ${measured.length} prune cycles after ${cycles.length - measured.length} settling ones (last within ${FLAT_GROWTH * 100} % of the size before them) | ${first === undefined || last === undefined ? 'not measured' : `${mib(first)} → ${mib(last)} (${(((last - first) / first) * 100).toFixed(1)} %)`} | ${met(first === undefined || last === undefined ? null : last <= first * (1 + FLAT_GROWTH))} |`,
    );
  }
  return `${rows.join('\n')}\n`;
}

export function readsTable(e: ScaleEngineResult): string {
  if (e.reads.length === 0) return 'Not measured.\n';
  const rows = ['| read | as | p50 ms | p99 ms | rows | total | p99 ≤ 50 ms |', '|---|---|---|---|---|---|---|'];
  for (const r of e.reads) rows.push(`| ${r.read} | ${r.as} | ${formatValue(r.p50Ms, 'ms')} | ${formatValue(r.p99Ms, 'ms')} | ${r.rows ?? ''} | ${r.total ?? ''} | ${met(r.p99Ms <= READ_P99_MS)} |`);
  return `${rows.join('\n')}\n`;
}

export function buildLines(e: ScaleEngineResult): string {
  const lines: string[] = [];
  if (e.build) lines.push(`- Built ${n(e.build.rows)} finished tasks in ${formatValue(e.build.seconds, '')} s (${n(e.build.rowsPerSecond)} tasks/s).`);
  if (e.catchUp)
    lines.push(
      `- Rollup caught up in ${e.catchUp.calls} calls (${n(e.catchUp.minutes)} minutes) and ${formatValue(e.catchUp.seconds, '')} s; the stats ${e.catchUp.mismatches.length === 0 ? 'agree with the rows' : `**disagree with the rows**: ${e.catchUp.mismatches.join('; ')}`}.`,
    );
  if (e.dashboard)
    lines.push(
      `- Open dashboard (${e.dashboard.streams} /events streams, nothing changing) for ${formatValue(e.dashboard.seconds, '')} s: ${formatValue(e.dashboard.transactionsPerSecond, '')} transactions/s (${formatValue(e.dashboard.baselineTransactionsPerSecond, '')}/s just before with no stream open)${e.dashboard.statementsPerSecond === null ? '' : `, ${formatValue(e.dashboard.statementsPerSecond, '')} statements/s`} (pg_stat_database); the API's engine calls ${formatValue(e.dashboard.engineCallsPerSecond, '')}/s (${Object.entries(e.dashboard.engineCalls).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}); events received: ${Object.entries(e.dashboard.events).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}.`,
    );
  if (e.drain) {
    const failed = e.drain.audits.filter((a) => !a.ok);
    lines.push(`- Drain of ${n(e.drain.tasks)} no-op tasks at concurrency ${e.drain.concurrency}, median of ${e.drain.rounds} interleaved rounds: ${n(e.drain.history)} tasks/s with the history, ${n(e.drain.empty)} on an empty database (${(e.drain.ratio * 100).toFixed(0)} %); ${failed.length === 0 ? 'every drain passed the exactly-once audit' : `**audit failed**: ${failed.map((a) => a.detail).join('; ')}`}.`);
  }
  for (const error of e.errors) lines.push(`- **Did not complete**: ${error}`);
  return `${lines.join('\n')}\n`;
}

/** The cycles held to the flat-size target, and the size they start from (after the settling cycles). */
function flatSpan(e: ScaleEngineResult): { baseline: TableSize | undefined; measured: PruneCycle[] } {
  const cycles = e.prune?.cycles ?? [];
  const settled = cycles.filter((c) => c.settling);
  return { baseline: settled.length > 0 ? settled.at(-1)!.size : e.prune?.before, measured: cycles.filter((c) => !c.settling) };
}

export function pruneTable(e: ScaleEngineResult): string {
  if (!e.prune) return 'Not measured.\n';
  const pg = e.engine === 'postgres';
  const rows = [
    `| cycle | added | add s | deleted | prune s | pruner calls | total size | ${pg ? 'heap | indexes' : 'pages in use | free pages'} |`,
    '|---|---|---|---|---|---|---|---|---|',
    `| before | | | | | | ${mib(e.prune.before.totalBytes)} | ${pg ? `${mib(e.prune.before.tableBytes)} | ${mib(e.prune.before.indexBytes ?? 0)}` : `${mib(e.prune.before.tableBytes)} | ${n(e.prune.before.freelistPages ?? 0)}`} |`,
  ];
  for (const c of e.prune.cycles) {
    rows.push(
      `| ${c.cycle}${c.settling ? ' (settling)' : ''} | ${n(c.added)} | ${formatValue(c.addSeconds, '')} | ${n(c.deleted)} | ${formatValue(c.pruneSeconds, '')} | ${c.pruneCalls} | ${mib(c.size.totalBytes)} | ${pg ? `${mib(c.size.tableBytes)} | ${mib(c.size.indexBytes ?? 0)}` : `${mib(c.size.tableBytes)} | ${n(c.size.freelistPages ?? 0)}`} |`,
    );
  }
  return `${rows.join('\n')}\n${pg ? `\n${indexTable(e)}` : ''}`;
}

/** PostgreSQL: each index's size before the cycles, after the settling ones and after each measured one. */
function indexTable(e: ScaleEngineResult): string {
  const { baseline, measured } = flatSpan(e);
  const points: [string, TableSize | undefined][] = [['before', e.prune?.before], ['settled', baseline], ...measured.map((c): [string, TableSize] => [String(c.cycle), c.size])];
  const names = Object.keys(points.find(([, size]) => size?.indexes)?.[1]?.indexes ?? {});
  if (names.length === 0) return '';
  const rows = [`| index, MiB | ${points.map(([label]) => label).join(' | ')} |`, `|---|${points.map(() => '---|').join('')}`];
  for (const name of names) rows.push(`| ${name} | ${points.map(([, size]) => (size?.indexes?.[name] === undefined ? '' : formatValue(size.indexes[name] / 2 ** 20, 'MiB'))).join(' | ')} |`);
  return `${rows.join('\n')}\n`;
}

/** Everything, for the terminal and the docs page. */
export function scaleTables(record: ScaleRecord): string {
  const parts = ['## Targets', '', targetsTable(record)];
  for (const e of record.engines) {
    parts.push(`## ${engineHeading(e)}`, '', buildLines(e), '### API reads over HTTP', '', readsTable(e), '### Prune cycles', '', pruneTable(e));
  }
  return parts.join('\n');
}
