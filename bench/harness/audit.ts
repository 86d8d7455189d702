import type { Check } from './results.ts';
import type { WorkerReport } from './worker-protocol.ts';

/**
 * The exactly-once audit: every task enqueued by the workload (indexes 0..expected-1) must have run
 * exactly once, or, when the workload ran out of time, still wait in the store. A task that ran twice,
 * ran while also still unfinished in the store, or vanished, fails the run whatever its speed.
 */
export function auditExactlyOnce(p: {
  run: number;
  workload: string;
  system: string;
  expected: number;
  report: WorkerReport;
  remaining: number;
  /** Indexes whose insert the system refused (a saturated client): never stored, so never owed. */
  refused?: ReadonlySet<number>;
}): Check {
  const { report, remaining } = p;
  const refused = p.refused ?? new Set<number>();
  const expected = p.expected - refused.size;
  const counts = new Uint32Array(p.expected);
  let unknown = 0;
  for (const index of report.indexes) {
    if (Number.isInteger(index) && index >= 0 && index < p.expected && !refused.has(index)) counts[index]! += 1;
    else unknown += 1;
  }
  let distinct = 0;
  let duplicates = 0;
  for (const count of counts) {
    if (count > 0) distinct += 1;
    if (count > 1) duplicates += count - 1;
  }
  const notRun = expected - distinct;
  const lost = Math.max(0, notRun - remaining);
  // More unfinished in the store than never ran: some ran but their completion was never recorded,
  // so they would run again.
  const unrecorded = Math.max(0, remaining - notRun);
  const problems: string[] = [];
  if (duplicates > 0) problems.push(`${duplicates} repeated`);
  if (lost > 0) problems.push(`${lost} lost`);
  if (unrecorded > 0) problems.push(`${unrecorded} ran but still unfinished in the store`);
  if (unknown > 0) problems.push(`${unknown} unknown task indexes`);
  if (report.stray > 0) problems.push(`${report.stray} tasks of another workload`);
  const finished = notRun === 0;
  const refusedNote = refused.size > 0 ? `; ${refused.size} inserts refused by the system` : '';
  const detail =
    (problems.length > 0 ? problems.join(', ') : finished ? 'every task ran exactly once' : `${distinct} ran exactly once; ${notRun} still queued when time ran out`) + refusedNote;
  return {
    run: p.run,
    workload: p.workload,
    system: p.system,
    expected,
    ran: report.indexes.length,
    distinct,
    duplicates,
    remaining,
    lost,
    stray: report.stray,
    finished: finished && refused.size === 0,
    ok: problems.length === 0,
    detail,
  };
}

/** The audit of an enqueue-only workload: the store must hold every task enqueued, none lost. */
export function auditStored(p: { run: number; workload: string; system: string; expected: number; stored: number }): Check {
  const lost = Math.max(0, p.expected - p.stored);
  const extra = Math.max(0, p.stored - p.expected);
  const ok = lost === 0 && extra === 0;
  return {
    run: p.run,
    workload: p.workload,
    system: p.system,
    expected: p.expected,
    ran: 0,
    distinct: 0,
    duplicates: extra,
    remaining: p.stored,
    lost,
    stray: 0,
    finished: true,
    ok,
    detail: ok ? 'every task stored once' : `${lost} lost, ${extra} extra`,
  };
}
