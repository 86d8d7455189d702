/**
 * The CPU cost of a single-owner claim drain, for comparing two source trees (before/after a change
 * to the claim): one claimer claims `--tasks` tasks of one type, `--batch` at a time, and nothing
 * completes them. SQLite runs in this process, so its cost is this process's CPU time; PostgreSQL's is
 * the CPU time of the server backend that ran the claims (read from /proc: the database must be on
 * this machine). CPU time, not wall time, so that a loaded machine does not decide the answer.
 *
 *   node --import tsx bench/tools/claim-cost.ts [--root /work/main] [--tasks 20000] [--batch 100] [--runs 3] [--type webhook] [--fair-share 0.5]
 *
 * `--fair-share` passes taskClaim's fairShare (a tree without fair shares ignores it): one owner's
 * drain then pays the "does another owner wait?" probe on every claim.
 * `--type webhook` drains webhooks (each with a breaker scope, its URL's host) instead of a plain type.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { benchPostgresUrl, BENCH_POSTGRES, dropPostgresSchema } from '../bench-databases.ts';

const { values } = parseArgs({
  options: { root: { type: 'string', default: '.' }, tasks: { type: 'string', default: '20000' }, batch: { type: 'string', default: '100' }, runs: { type: 'string', default: '3' }, type: { type: 'string', default: 'noop' }, 'fair-share': { type: 'string' } },
});
const root = resolve(values.root!);
const tasks = Number(values.tasks);
const batch = Number(values.batch);
const runs = Number(values.runs);
const taskType = values.type!;
const fairShare = values['fair-share'] === undefined ? undefined : Number(values['fair-share']);
const payload = (n: number) => (taskType === 'webhook' ? { url: `https://host-${n % 10}.example.com/hook`, method: 'POST', payload: { n } } : { n });

const { newTask } = await import(join(root, 'src/core/new-task.ts'));
const { openSqliteEngine } = await import(join(root, 'src/store/sqlite/sqlite-engine.ts'));
const { openPostgresEngine } = await import(join(root, 'src/store/postgres/postgres-engine.ts'));

const ticks = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in ms at 100 Hz
};

async function drain(engine: any, cpu: () => number): Promise<number> {
  const now = new Date();
  for (let start = 0; start < tasks; start += 5000) {
    await engine.taskInsertMany({ tasks: Array.from({ length: Math.min(5000, tasks - start) }, (_, n) => newTask({ taskType, payload: payload(start + n) }, now)) });
  }
  const before = cpu();
  let claimed = 0;
  for (;;) {
    const got = await engine.taskClaim({ workerId: 'bench', taskTypes: [taskType], limit: batch, now: new Date(), leaseMs: 600_000, fairShare });
    if (got.length === 0) break;
    claimed += got.length;
  }
  if (claimed !== tasks) throw new Error(`claimed ${claimed} of ${tasks}`);
  return cpu() - before;
}

const results: Record<string, number[]> = { sqlite: [], postgres: [] };
for (let run = 0; run < runs; run++) {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-claim-cost-'));
  const sqlite = openSqliteEngine({ filename: join(dir, 'bench.db') });
  try {
    await sqlite.migrate();
    results.sqlite!.push(await drain(sqlite, () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }));
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const { schema } = benchPostgresUrl();
  const postgres = openPostgresEngine({ connectionString: BENCH_POSTGRES, schema });
  const admin = new pg.Client({ connectionString: BENCH_POSTGRES });
  await admin.connect();
  try {
    await postgres.migrate();
    // One claim to open the claimer's connection; its backend is the one whose last query names the schema.
    await postgres.taskClaim({ workerId: 'warm', taskTypes: [taskType], limit: 1, now: new Date(), leaseMs: 1000, fairShare });
    const backends = async () =>
      (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE $1`, [`%${schema}%`])).rows.map((r) => r.pid);
    const pids = await backends();
    results.postgres!.push(await drain(postgres, () => pids.reduce((sum, pid) => sum + ticks(pid), 0)));
    const after = await backends();
    if (after.some((pid) => !pids.includes(pid))) process.stderr.write(`note: the claims used a backend opened after the baseline (${after.join(',')} vs ${pids.join(',')})\n`);
  } finally {
    await admin.end();
    await postgres.close();
    await dropPostgresSchema(schema);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const kind of ['sqlite', 'postgres']) {
  process.stdout.write(`${kind}: claim drain of ${tasks} ${taskType} (batch ${batch}) CPU ms: ${results[kind]!.join(', ')} (median ${median(results[kind]!)})\n`);
}
