/**
 * The scale benchmark on one engine, on a fresh database (or SQLite file) dropped afterwards: owners
 * made through the API, the history built through the bulk path, the rollups caught up, then every
 * API read, the dashboard's cost, the drain against an empty database, and the prune cycles. A part
 * that fails is recorded and the next one still runs.
 */
import { ConveyorClient } from '../../src/client/conveyor-client.ts';
import { ApiProcess } from '../harness/api-process.ts';
import { allocateLocation, releaseLocation } from '../harness/locations.ts';
import { median } from '../stats.ts';
import { conveyor, conveyorDatabaseUrl } from '../systems/conveyor.ts';
import { measureReads } from './api-reads.ts';
import { buildHistory } from './build-history.ts';
import { catchUpRollups } from './catch-up.ts';
import { measureDashboardCost } from './dashboard-cost.ts';
import { drainEmpty, drainOnce, type DrainFigure } from './drain-ratio.ts';
import { HISTORY_TYPES } from './history-rows.ts';
import { openHistoryStore } from './history-store.ts';
import { runPruneCycles } from './prune-cycles.ts';
import type { ScaleEngineResult } from './scale-record.ts';
import { RETENTION_DAYS, type ScaleOptions } from './scale-options.ts';
import { createOwners, type Caller } from './http-session.ts';

const DAY_MS = 86_400_000;
/** The history ends now and starts this much inside the retention, so no worker prunes it mid-run. */
const RETENTION_MARGIN_MS = 6 * 3_600_000;
const OWNERS = 10;

export async function runScaleEngine(p: { store: 'postgres' | 'sqlite'; rows: number; options: ScaleOptions; step: (label: string) => void }): Promise<ScaleEngineResult> {
  const definition = conveyor(p.store);
  const result: ScaleEngineResult = { engine: p.store, system: definition.id, rows: p.rows, build: null, catchUp: null, reads: [], dashboard: null, drain: null, prune: null, errors: [] };
  const attempt = async (part: string, fn: () => Promise<void>) => {
    p.step(`${definition.id}: ${part}`);
    try {
      await fn();
    } catch (error) {
      result.errors.push(`${part}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      if (process.env.BENCH_DEBUG) process.stderr.write(`\n[debug] ${definition.id} ${part}: ${error instanceof Error ? error.stack : String(error)}\n`);
    }
  };

  const location = await allocateLocation(definition);
  const databaseUrl = conveyorDatabaseUrl(location);
  const client = await ConveyorClient.open({ databaseUrl });
  const store = await openHistoryStore(location);
  let api: ApiProcess | null = null;
  try {
    // The task types workers would have registered, so enqueueMany checks payloads as in production.
    for (const name of HISTORY_TYPES) {
      await client.engine.typeRegister({ type: { name, description: 'scale history', payloadSchema: { type: 'object' }, examples: [], timeoutMs: 300_000 }, now: new Date() });
    }
    api = await ApiProcess.start(databaseUrl);
    const admin: Caller = { baseUrl: api.url, token: api.token };
    const owners = await createOwners(admin, OWNERS);
    const ownerIds = owners.map((owner) => owner.id);
    const to = Date.now();
    const from = to - RETENTION_DAYS * DAY_MS + RETENTION_MARGIN_MS;

    await attempt(`build ${p.rows.toLocaleString('en-US')} finished tasks`, async () => {
      result.build = await buildHistory({ client, store, rows: p.rows, batch: p.options.batch, owners: ownerIds, from, to, seed: 16, label: definition.id });
      await store.settle();
    });
    await attempt('catch up the rollups', async () => {
      result.catchUp = await catchUpRollups(client, store);
    });
    await attempt('API reads', async () => {
      try {
        result.reads = await measureReads({ admin, user: owners[0]!.caller, requests: p.options.requests, warmup: p.options.warmup, taskType: HISTORY_TYPES[0], onRead: (read) => p.step(`${definition.id}: ${read}`) });
      } catch (error) {
        // fetch's own message ("fetch failed") hides the reason in its cause.
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const reason = cause ? ` (${[cause.code, cause.message].filter(Boolean).join(': ')})` : '';
        throw new Error(`${(error as Error).message}${reason}${api?.exitReason ? `: the API server ${api.exitReason}` : ''}`);
      }
    });
    if (location.kind === 'postgres') {
      await attempt(`an open dashboard for ${p.options.dashboardSeconds} s`, async () => {
        result.dashboard = await measureDashboardCost({ database: location.database, api: api!, viewers: [admin, owners[0]!.caller], seconds: p.options.dashboardSeconds });
      });
    }
    await attempt(`drain ${p.options.drainTasks.toLocaleString('en-US')} tasks with the history and on an empty database`, async () => {
      const drain = { tasks: p.options.drainTasks, concurrency: p.options.drainConcurrency };
      // Interleaved, so that drift in a shared machine's load falls on both sides.
      const empty: DrainFigure[] = [];
      const history: DrainFigure[] = [];
      for (let round = 1; round <= p.options.drainRounds; round++) {
        empty.push(await drainEmpty({ definition, ...drain }));
        history.push(await drainOnce({ definition, location, ...drain, label: `history-${round}` }));
      }
      const rate = (figures: DrainFigure[]) => median(figures.map((f) => f.tasksPerSecond));
      result.drain = { ...drain, rounds: p.options.drainRounds, history: rate(history), empty: rate(empty), ratio: rate(history) / rate(empty), audits: [...history, ...empty].map((f) => f.check) };
    });
    await attempt(`${p.options.settleCycles} + ${p.options.pruneCycles} prune cycles`, async () => {
      result.prune = await runPruneCycles({
        client,
        store,
        from,
        to,
        rowsPerDay: Math.round(p.rows / RETENTION_DAYS),
        batch: p.options.batch,
        owners: ownerIds,
        cycles: p.options.pruneCycles,
        settle: p.options.settleCycles,
        label: definition.id,
      });
    });
  } catch (error) {
    result.errors.push(`setup: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  } finally {
    await api?.stop().catch(() => {});
    await store.close().catch(() => {});
    await client.close().catch(() => {});
    await releaseLocation(location).catch(() => {});
  }
  return result;
}
