/**
 * GET /tasks/history's latency on a large history, kept between runs so that one history can be read
 * by two versions of Conveyor (issue 16: hourly rollups). Three steps:
 *
 *   node --import tsx bench/tools/history-reads.ts build --engine postgres --rows 1000000 --state /tmp/h-pg.json
 *   node --import tsx bench/tools/history-reads.ts measure --state /tmp/h-pg.json [--requests 200] [--chart /tmp/7d.json]
 *   node --import tsx bench/tools/history-reads.ts drop --state /tmp/h-pg.json
 *
 * build: a fresh database (bench_*) or SQLite file (/tmp/conveyor-bench-*), ten owners, the history
 * built through the bulk path as `npm run bench -- --scale` builds it (7 days less 6 hours, ending
 * now), the rollups caught up. measure: migrates the database to this checkout's schema, calls the
 * rollup until it has nothing left (an upgraded database catches up there), starts an API server and
 * times the chart reads one at a time after a warm-up; `--chart` writes the 7-day chart's buckets, to
 * compare two versions' answers; `--paths a,b` times other reads instead (for example
 * `/tasks?limit=20&task_type=email`). drop: removes the database or file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConveyorClient } from '../../src/client/conveyor-client.ts';
import { ApiProcess } from '../harness/api-process.ts';
import { allocateLocation, releaseLocation } from '../harness/locations.ts';
import { catchUpRollups } from '../scale/catch-up.ts';
import { buildHistory } from '../scale/build-history.ts';
import { HISTORY_TYPES } from '../scale/history-rows.ts';
import { openHistoryStore } from '../scale/history-store.ts';
import { call, createOwners, type Caller } from '../scale/http-session.ts';
import { percentile } from '../stats.ts';
import { conveyor, conveyorDatabaseUrl } from '../systems/conveyor.ts';
import type { Location } from '../systems/system.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    engine: { type: 'string', default: 'postgres' },
    rows: { type: 'string', default: '1000000' },
    state: { type: 'string' },
    requests: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    chart: { type: 'string' },
    paths: { type: 'string' },
  },
});
const command = positionals[0];
if (!values.state || !['build', 'measure', 'drop'].includes(command ?? '')) {
  console.error('usage: history-reads.ts build|measure|drop --state <file> [--engine postgres|sqlite] [--rows n] [--requests n] [--chart file]');
  process.exit(2);
}
const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const DAY_MS = 86_400_000;

if (command === 'build') {
  const store = values.engine === 'sqlite' ? 'sqlite' : 'postgres';
  const rows = Number(values.rows!.replaceAll('_', ''));
  const location = await allocateLocation(conveyor(store));
  writeFileSync(values.state, JSON.stringify({ location }));
  const databaseUrl = conveyorDatabaseUrl(location);
  const client = await ConveyorClient.open({ databaseUrl });
  const history = await openHistoryStore(location);
  try {
    for (const name of HISTORY_TYPES) {
      await client.engine.typeRegister({ type: { name, description: 'scale history', payloadSchema: { type: 'object' }, examples: [], timeoutMs: 300_000 }, now: new Date() });
    }
    const api = await ApiProcess.start(databaseUrl);
    const owners = await createOwners({ baseUrl: api.url, token: api.token }, 10).finally(() => api.stop());
    const to = Date.now();
    const built = await buildHistory({ client, store: history, rows, batch: 5000, owners: owners.map((o) => o.id), from: to - 7 * DAY_MS + 6 * 3_600_000, to, seed: 16, label: store });
    await history.settle();
    log(`built ${built.rows} rows in ${built.seconds.toFixed(0)} s`);
    const caught = await catchUpRollups(client, history);
    log(`rollups caught up: ${caught.calls} calls, ${caught.seconds.toFixed(1)} s${caught.mismatches.length ? `; MISMATCHES ${caught.mismatches.join(', ')}` : ''}`);
  } finally {
    await history.close();
    await client.close();
  }
} else if (command === 'measure') {
  const { location } = JSON.parse(readFileSync(values.state, 'utf8')) as { location: Location };
  const databaseUrl = conveyorDatabaseUrl(location);
  const client = await ConveyorClient.open({ databaseUrl });
  try {
    const started = performance.now();
    let calls = 0;
    for (;;) {
      const result = (await client.engine.taskRollup({ now: new Date() })) as { minutes: number; hours?: number };
      calls += 1;
      if (result.minutes === 0 && (result.hours ?? 0) === 0) break;
    }
    log(`rollup caught up in ${calls} calls, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await client.close();
  }
  const api = await ApiProcess.start(databaseUrl);
  try {
    const admin: Caller = { baseUrl: api.url, token: api.token };
    const requests = Number(values.requests);
    const warmup = Number(values.warmup);
    const paths = values.paths?.split(',') ?? ['/tasks/history?range=7d', '/tasks/history?range=7d&task_type=email', '/tasks/history?range=24h', '/tasks/history?range=1h'];
    for (const path of paths) {
      for (let i = 0; i < warmup; i++) await call(admin, 'GET', path);
      const times: number[] = [];
      for (let i = 0; i < requests; i++) {
        const t0 = performance.now();
        await call(admin, 'GET', path);
        times.push(performance.now() - t0);
      }
      console.log(`${location.kind}\t${path}\tp50 ${percentile(times, 50).toFixed(1)} ms\tp99 ${percentile(times, 99).toFixed(1)} ms`);
    }
    if (values.chart) writeFileSync(values.chart, JSON.stringify(await call(admin, 'GET', '/tasks/history?range=7d'), null, 1));
  } finally {
    await api.stop();
  }
} else {
  const { location } = JSON.parse(readFileSync(values.state, 'utf8')) as { location: Location };
  await releaseLocation(location);
  log('dropped');
}
