/**
 * Watches every `pg` client of this process (Conveyor, graphile-worker and pg-boss all share the one
 * `pg` package): counts the queries they send and keeps the open clients, so that their pending
 * statistics can be flushed on demand. Installed once per process, by wrapping
 * pg.Client.prototype.query.
 */
import pg from 'pg';

type QueryArgs = unknown[];
type Observer = (args: QueryArgs, result: unknown) => void;

const open = new Set<pg.Client>();
const observers = new Set<Observer>();
const FLUSH = 'SELECT pg_stat_force_next_flush()';
let installed = false;
let queries = 0;

/** Queries sent by this process's pg clients since watchPgClients, the flushes left out. */
export function pgQueryCount(): number {
  return queries;
}

/** Wraps pg.Client.prototype.query (once); `observe` is called with each query's arguments and result. */
export function watchPgClients(observe?: Observer): void {
  if (observe) observers.add(observe);
  if (installed) return;
  installed = true;
  const query = pg.Client.prototype.query as (...args: QueryArgs) => unknown;
  pg.Client.prototype.query = function watchedQuery(this: pg.Client, ...args: QueryArgs) {
    if (!open.has(this)) {
      open.add(this);
      this.once('end', () => open.delete(this));
    }
    if (args[0] !== FLUSH) queries += 1;
    const result = query.apply(this, args);
    for (const observer of observers) observer(args, result);
    return result;
  } as typeof pg.Client.prototype.query;
}

/**
 * Makes every open client of this process publish its pending table and transaction statistics now
 * (PostgreSQL 15's pg_stat_force_next_flush(); a backend otherwise holds them up to 10 s while idle),
 * so a reading of pg_stat_* that follows is exact. Each flush is one short transaction of its own.
 * Returns how many clients were flushed; on a server before 15 it does nothing.
 */
export async function flushPgStatistics(): Promise<number> {
  const done = await Promise.all(
    [...open].map((client) =>
      client.query(FLUSH).then(
        () => 1,
        () => 0,
      ),
    ),
  );
  return done.reduce((a: number, b: number) => a + b, 0);
}
