/**
 * `npm run bench -- --scale`: Conveyor with a large finished history (issue 16), PostgreSQL then
 * SQLite. Writes bench/results/scale-<time>.json, prints the tables, regenerates docs/benchmarks-scale.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { postgresVersion } from '../bench-databases.ts';
import { gitCommit, machineInfo } from '../harness/run-info.ts';
import { runScaleEngine } from './scale-engine.ts';
import { writeScaleDocsPage } from './scale-docs-page.ts';
import type { ScaleOptions } from './scale-options.ts';
import type { ScaleRecord } from './scale-record.ts';
import { scaleTables } from './scale-report.ts';

export async function runScale(p: { options: ScaleOptions; quick: boolean; writeDocs: boolean }): Promise<ScaleRecord> {
  const startedAt = new Date();
  const step = (label: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${label}\n`);
  const engines: ScaleRecord['engines'] = [];
  for (const store of ['postgres', 'sqlite'] as const) {
    const rows = p.options.rows[store];
    if (rows > 0) engines.push(await runScaleEngine({ store, rows, options: p.options, step }));
  }
  const record: ScaleRecord = {
    startedAt: startedAt.toISOString(),
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    quick: p.quick,
    options: p.options,
    machine: machineInfo(),
    postgres: await postgresVersion().catch(() => 'unreachable'),
    gitCommit: gitCommit(),
    engines,
  };
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  const file = new URL(`../results/scale-${startedAt.toISOString().replaceAll(':', '-')}${p.quick ? '-quick' : ''}.json`, import.meta.url);
  writeFileSync(file, JSON.stringify(record, null, 2));
  if (p.writeDocs) writeScaleDocsPage(record, file.pathname);
  console.log(`\n${scaleTables(record)}`);
  console.log(`Results: ${file.pathname}${p.writeDocs ? '; docs/benchmarks-scale.md regenerated' : ''}`);
  return record;
}
