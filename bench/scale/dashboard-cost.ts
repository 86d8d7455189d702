/**
 * What an open dashboard costs PostgreSQL with nothing changing: the dashboard's live stream (GET
 * /events) is held open by an admin and by a role-user owner for a window, and the database's
 * transactions (pg_stat_database xact_commit + xact_rollback; each of the API's reads is one
 * autocommitted statement) and, when the server preloads it, pg_stat_statements calls are counted;
 * and, from the API's own GET /metrics, the engine calls the API server made, by method (a scrape's own
 * calls, measured by a second scrape at once, are taken off). pg_stat_database also counts whatever
 * else touches the database meanwhile (autovacuum's analyses after a large build); the engine calls
 * are the API's alone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { databaseStatements, databaseTransactions } from '../bench-databases.ts';
import type { ApiProcess } from '../harness/api-process.ts';
import type { Caller } from './http-session.ts';

/**
 * A backend publishes its counts at most once a second, and an idle one within 10 s
 * (PGSTAT_IDLE_INTERVAL): a window opened sooner after busy work would count that work too.
 */
const STATS_FLUSH_MS = 11_000;

export interface DashboardCost {
  seconds: number;
  streams: number;
  transactionsPerSecond: number;
  /** The same count over a window just before, with the API up but no stream open. */
  baselineTransactionsPerSecond: number;
  /** null when pg_stat_statements is not loaded by the server. */
  statementsPerSecond: number | null;
  /** The API server's engine calls per second in the window, and by method (counts). */
  engineCallsPerSecond: number;
  engineCalls: Record<string, number>;
  /** Events the streams received in the window (keep-alives and heartbeats' stats included). */
  events: Record<string, number>;
}

export async function measureDashboardCost(p: { database: string; api: ApiProcess; viewers: Caller[]; seconds: number }): Promise<DashboardCost> {
  // What the database does with the API up and no stream open (autovacuum after a build, a scrape).
  const baselineSeconds = Math.max(10, Math.round(p.seconds / 3));
  await sleep(STATS_FLUSH_MS);
  const baselineBefore = await databaseTransactions(p.database);
  await sleep(baselineSeconds * 1000);
  const baselinePerSecond = ((await databaseTransactions(p.database)) - baselineBefore) / baselineSeconds;
  const controller = new AbortController();
  const events: Record<string, number> = {};
  let counting = false;
  const firstStats: Promise<void>[] = [];
  const streams = p.viewers.map((viewer) => {
    let sawStats = () => {};
    firstStats.push(new Promise<void>((resolve) => (sawStats = resolve)));
    return (async () => {
      const response = await fetch(`${viewer.baseUrl}/events`, { headers: { authorization: `Bearer ${viewer.token}` }, signal: controller.signal });
      if (!response.ok || !response.body) throw new Error(`GET /events: ${response.status}`);
      const decoder = new TextDecoder();
      for await (const chunk of response.body) {
        for (const match of decoder.decode(chunk, { stream: true }).matchAll(/^event: (.*)$/gm)) {
          if (match[1] === 'stats') sawStats();
          if (counting) events[match[1]!] = (events[match[1]!] ?? 0) + 1;
        }
      }
    })().catch((error: unknown) => {
      if (!controller.signal.aborted) throw error;
    });
  });
  try {
    await Promise.race([Promise.all(firstStats), Promise.all(streams).then(() => Promise.reject(new Error('an /events stream ended early')))]);
    // The streams' first reads reach the statistics before the window opens.
    await sleep(STATS_FLUSH_MS);
    const xactsBefore = await databaseTransactions(p.database);
    const statementsBefore = await databaseStatements(p.database);
    const callsBefore = await p.api.engineCalls();
    counting = true;
    const started = performance.now();
    await sleep(p.seconds * 1000);
    counting = false;
    const seconds = (performance.now() - started) / 1000;
    const callsAfter = await p.api.engineCalls();
    const xacts = (await databaseTransactions(p.database)) - xactsBefore;
    const scrape = await p.api.engineCalls();
    const engineCalls: Record<string, number> = {};
    for (const [method, count] of callsAfter) {
      const inWindow = count - (callsBefore.get(method) ?? 0) - ((scrape.get(method) ?? 0) - count);
      if (inWindow > 0) engineCalls[method] = inWindow;
    }
    const statementsAfter = statementsBefore === null ? null : await databaseStatements(p.database);
    return {
      seconds,
      streams: p.viewers.length,
      // Our own two readings of pg_stat_database run on another database, so they are not counted.
      transactionsPerSecond: xacts / seconds,
      baselineTransactionsPerSecond: baselinePerSecond,
      statementsPerSecond: statementsBefore === null || statementsAfter === null ? null : (statementsAfter - statementsBefore) / seconds,
      engineCallsPerSecond: Object.values(engineCalls).reduce((a, b) => a + b, 0) / seconds,
      engineCalls,
      events,
    };
  } finally {
    controller.abort();
    await Promise.allSettled(streams);
  }
}
