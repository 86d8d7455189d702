import type { ScenarioResult } from './scenario.ts';

/** The one-line JSON summary of a scenario, for machines (CI logs, a later comparison). */
export function summaryLine(result: ScenarioResult): string {
  return JSON.stringify({
    chaos: result.scenario,
    engine: result.engine,
    tasks: result.tasks,
    kills: result.kills,
    restarts: result.restarts,
    invariants_checked: result.invariantsChecked,
    violations: result.violations.map((v) => ({ invariant: v.invariant, count: v.count, ids: v.ids, detail: v.detail })),
    seconds: result.seconds,
    ...result.figures,
  });
}

export interface SkippedScenario {
  engine: string;
  scenario: string;
  why: string;
}

/** The table at the end, for people. */
export function humanTable(results: ScenarioResult[], skipped: SkippedScenario[]): string {
  const header = ['engine', 'scenario', 'tasks', 'kills', 'restarts', 'invariants', 'violations', 'seconds', 'result'];
  const rows = results.map((r) => [
    r.engine,
    r.scenario,
    String(r.tasks),
    String(r.kills),
    String(r.restarts),
    String(r.invariantsChecked),
    String(r.violations.length),
    String(r.seconds),
    r.violations.length === 0 ? 'ok' : `FAIL: ${r.violations.map((v) => `${v.invariant} (${v.count})`).join(', ')}`,
  ]);
  for (const s of skipped) rows.push([s.engine, s.scenario, '-', '-', '-', '-', '-', '-', `skipped: ${s.why}`]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (i === header.length - 1 ? 0 : row[i]!.length))));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
