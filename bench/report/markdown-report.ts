/**
 * The markdown tables of a run: one table per section with every system side by side (median, and
 * the spread across runs when there are several), the ratio of each Conveyor engine to the best
 * peer, the issue's targets with pass/fail, and the exactly-once audit.
 */
import type { RunRecord } from '../harness/run-record.ts';
import type { Metric, Result } from '../harness/results.ts';
import { spread } from '../stats.ts';
import { formatRatio, formatValue } from './format.ts';

const CONVEYOR = ['conveyor-postgres', 'conveyor-sqlite'];

/** Sections in reading order: what users compare first comes first. */
export const SECTION_ORDER = ['Throughput', 'Latency', 'Enqueue', 'Cost', 'HTTP API'];

export function sectionsOf(record: RunRecord): string[] {
  const rank = (section: string) => (SECTION_ORDER.includes(section) ? SECTION_ORDER.indexOf(section) : SECTION_ORDER.length);
  return [...new Set(record.metrics.map((m) => m.section))].sort((a, b) => rank(a) - rank(b));
}

export function resultOf(record: RunRecord, metric: string, system: string): Result | undefined {
  return record.results.find((r) => r.metric === metric && r.system === system);
}

/** Conveyor's lead over the best peer: above 1 means Conveyor is ahead, whichever way is better. */
export function ratioToBestPeer(record: RunRecord, metric: Metric, conveyorId: string): { ratio: number; peer: string | null } {
  const mine = resultOf(record, metric.key, conveyorId)?.median ?? Number.NaN;
  let best: { value: number; system: string } | null = null;
  for (const system of record.systems) {
    if (system.product === 'conveyor') continue;
    const value = resultOf(record, metric.key, system.id)?.median;
    if (value === undefined || !Number.isFinite(value)) continue;
    if (!best || (metric.better === 'higher' ? value > best.value : value < best.value)) best = { value, system: system.id };
  }
  if (!best || !Number.isFinite(mine)) return { ratio: Number.NaN, peer: best?.system ?? null };
  const ratio = metric.better === 'higher' ? mine / best.value : mine === 0 ? Number.POSITIVE_INFINITY : best.value / mine;
  return { ratio, peer: best.system };
}

function cell(result: Result | undefined, metric: Metric): string {
  if (!result || !Number.isFinite(result.median)) return 'n/a';
  const value = formatValue(result.median, metric.unit);
  const range = result.samples.length > 1 ? ` ±${((spread(result.samples) * 100) / 2).toFixed(0)}%` : '';
  return `${value}${range}${result.notes.length > 0 ? ' *' : ''}`;
}

export function sectionTables(record: RunRecord): string {
  const systems = record.systems;
  const conveyors = systems.filter((s) => CONVEYOR.includes(s.id));
  const labelOf = (id: string) => systems.find((s) => s.id === id)?.label ?? id;
  const sections = sectionsOf(record);
  const out: string[] = [];
  for (const section of sections) {
    const metrics = record.metrics.filter((m) => m.section === section);
    const shown = systems.filter((s) => metrics.some((m) => resultOf(record, m.key, s.id)));
    if (shown.length === 0) continue;
    out.push(`### ${section}`, '');
    const ratioColumns = section === 'HTTP API' ? [] : conveyors;
    out.push(`| workload | unit | ${shown.map((s) => s.label).join(' | ')}${ratioColumns.map((c) => ` | ${c.label} ÷ best peer`).join('')} |`);
    out.push(`|---|---|${shown.map(() => '---:').join('|')}${ratioColumns.map(() => '|---:').join('')}|`);
    const notes: string[] = [];
    for (const metric of metrics) {
      const cells = shown.map((s) => cell(resultOf(record, metric.key, s.id), metric));
      const ratios = ratioColumns.map((c) => {
        if (!metric.ranked) return '—';
        const { ratio, peer } = ratioToBestPeer(record, metric, c.id);
        return Number.isFinite(ratio) || ratio === Number.POSITIVE_INFINITY ? `${formatRatio(ratio)} vs ${labelOf(peer!)}` : 'n/a';
      });
      out.push(`| ${metric.title} | ${metric.unit} | ${cells.join(' | ')}${ratios.map((r) => ` | ${r}`).join('')} |`);
      for (const s of shown) {
        for (const note of resultOf(record, metric.key, s.id)?.notes ?? []) notes.push(`${s.label}, ${metric.title}: ${note}`);
      }
    }
    out.push('');
    if (notes.length > 0) out.push(...notes.map((n) => `- \\* ${n}`), '');
  }
  return out.join('\n');
}

export interface TargetOutcome {
  target: string;
  conveyor: string;
  reference: string;
  pass: boolean | null;
}

/** The issue's "must show" list, evaluated on Conveyor with PostgreSQL. */
export function targetOutcomes(record: RunRecord): TargetOutcome[] {
  const me = 'conveyor-postgres';
  const value = (metric: string, system: string) => resultOf(record, metric, system)?.median ?? Number.NaN;
  const unit = (key: string) => record.metrics.find((m) => m.key === key)?.unit ?? '';
  const fmt = (key: string, v: number) => `${formatValue(v, unit(key))} ${unit(key)}`;
  const peers = record.systems.filter((s) => s.product !== 'conveyor').map((s) => s.id);
  const outcomes: TargetOutcome[] = [];
  const compare = (target: string, key: string, mine: number, reference: number, referenceText: string, pass: (a: number, b: number) => boolean) => {
    outcomes.push({
      target,
      conveyor: Number.isFinite(mine) ? fmt(key, mine) : 'n/a',
      reference: Number.isFinite(reference) ? `${referenceText}: ${fmt(key, reference)}` : `${referenceText}: n/a`,
      pass: Number.isFinite(mine) && Number.isFinite(reference) ? pass(mine, reference) : null,
    });
  };
  const bestOf = (key: string, ids: string[], better: 'higher' | 'lower') => {
    const values = ids.map((id) => ({ id, v: value(key, id) })).filter((x) => Number.isFinite(x.v));
    if (values.length === 0) return { v: Number.NaN, id: '' };
    return values.reduce((a, b) => ((better === 'higher' ? b.v > a.v : b.v < a.v) ? b : a));
  };
  for (const metric of record.metrics.filter((m) => m.key.startsWith('drain-c'))) {
    const gw = bestOf(metric.key, ['graphile-worker', 'graphile-worker-tuned'], 'higher');
    compare(`${metric.title}: ≥ 1.5 × graphile-worker's best`, metric.key, value(metric.key, me), gw.v * 1.5, `1.5 × ${gw.id || 'graphile-worker'}`, (a, b) => a >= b);
    compare(`${metric.title}, both at defaults: ≥ 4 × graphile-worker`, metric.key, value(metric.key, me), value(metric.key, 'graphile-worker') * 4, '4 × graphile-worker', (a, b) => a >= b);
  }
  const bulk = bestOf('bulk-enqueue', ['graphile-worker', 'graphile-worker-tuned'], 'higher');
  compare('bulk enqueue ≥ graphile-worker', 'bulk-enqueue', value('bulk-enqueue', me), bulk.v, bulk.id || 'graphile-worker', (a, b) => a >= b);
  for (const metric of record.metrics.filter((m) => /^latency-\d+-p99$/.test(m.key))) {
    const best = bestOf(metric.key, peers, 'lower');
    compare(`${metric.title}: ≤ best peer`, metric.key, value(metric.key, me), best.v, best.id || 'best peer', (a, b) => a <= b);
  }
  const idle = bestOf('idle-statements', peers.filter((id) => id !== 'bullmq'), 'lower');
  compare('idle statements/s per worker: < every PostgreSQL peer', 'idle-statements', value('idle-statements', me), idle.v, idle.id || 'best peer', (a, b) => a < b);
  return outcomes;
}

export function targetsTable(record: RunRecord): string {
  const rows = targetOutcomes(record);
  return [
    '| target (Conveyor on PostgreSQL) | Conveyor | reference | met |',
    '|---|---:|---:|:---:|',
    ...rows.map((r) => `| ${r.target} | ${r.conveyor} | ${r.reference} | ${r.pass === null ? 'n/a' : r.pass ? 'yes' : '**no**'} |`),
    '',
  ].join('\n');
}

export function auditTable(record: RunRecord): string {
  const out = ['| system | workloads audited | exactly once | did not finish in time | failures |', '|---|---:|---:|---:|---|'];
  for (const system of record.systems) {
    const checks = record.checks.filter((c) => c.system === system.id);
    if (checks.length === 0) continue;
    const failures = checks.filter((c) => !c.ok);
    out.push(
      `| ${system.label} | ${checks.length} | ${checks.filter((c) => c.ok && c.finished).length} | ${checks.filter((c) => c.ok && !c.finished).length} | ${
        failures.length === 0 ? 'none' : failures.map((f) => `run ${f.run} ${f.workload}: ${f.detail}`).join('; ')
      } |`,
    );
  }
  out.push('');
  return out.join('\n');
}

export function storeMicroTable(record: RunRecord): string {
  if (record.storeMicro.length === 0) return '_not run_\n';
  return [
    '| workload | engine | median | spread | runs |',
    '|---|---|---:|---:|---:|',
    ...record.storeMicro.map((m) => `| ${m.workload} | ${m.system} | ${formatValue(m.median, m.unit)} ${m.unit} | ±${((spread(m.samples) * 100) / 2).toFixed(0)}% | ${m.samples.length} |`),
    '',
  ].join('\n');
}
