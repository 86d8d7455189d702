import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { breakerStateAt } from '../../core/circuit-breaker.ts';
import type { StorageStats } from '../../core/storage-health.ts';
import { TASK_STATUSES } from '../../core/task.ts';
import { ApiError } from '../api-error.ts';
import type { ApiContext } from '../api-context.ts';
import { liveWorkers } from '../live-workers.ts';

const BREAKER_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;
/** A schedule this late was missed by every worker (the leader fires on time, or within a round of starting). */
const OVERDUE_SCHEDULE_MS = 60_000;

/**
 * Prometheus metrics at GET /metrics: HTTP request counts and durations by route, engine call
 * durations and errors by method, and the queue as the database sees it (tasks by status and type, live workers, breaker states), read at scrape time.
 * Each app has its own registry, so several apps in one process (tests) do not collide.
 *
 * Only for whoever holds server.metrics_token (`Authorization: Bearer <token>`, as Prometheus's
 * `authorization` scrape setting sends it): the numbers describe every user's activity. Without a
 * token configured, nothing is collected and /metrics answers 404 naming the setting.
 */
export async function installMetrics(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const token = ctx.config.metrics.token;
  if (token === null) {
    app.get('/metrics', { schema: { hide: true } }, async () => {
      throw new ApiError('NOT_FOUND', 'Metrics are served only with server.metrics_token set (CONVEYOR__SERVER__METRICS_TOKEN); scrape them with that bearer token');
    });
    return;
  }
  const tokenDigest = digest(token);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'conveyor_api_' });

  const requests = new Counter({
    name: 'conveyor_http_requests_total',
    help: 'HTTP requests answered, by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'conveyor_http_request_duration_seconds',
    help: 'HTTP request durations, by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  // Every engine call this process makes (routes, auth, these gauges), as the engine's dispatch layer reports them.
  const engineCalls = new Histogram({
    name: 'conveyor_engine_call_duration_seconds',
    help: 'Engine (database) call durations, by method and outcome (ok, or the error code)',
    labelNames: ['engine', 'method', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const engineErrors = new Counter({
    name: 'conveyor_engine_call_errors_total',
    help: 'Engine (database) calls that failed, by method and error code',
    labelNames: ['engine', 'method', 'code'] as const,
    registers: [registry],
  });
  const engine = ctx.engine.kind;
  const stopObserving = ctx.engine.observeCalls((call) => {
    engineCalls.observe({ engine, method: call.method, outcome: call.errorCode ?? 'ok' }, call.durationMs / 1000);
    if (call.errorCode !== null) engineErrors.inc({ engine, method: call.method, code: call.errorCode });
  });
  app.addHook('onClose', async () => stopObserving());

  new Gauge({
    name: 'conveyor_tasks',
    help: 'Tasks in the database, by status and task type',
    labelNames: ['status', 'task_type'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const stats = await ctx.engine.taskStats({ now: ctx.clock.now() });
      for (const [taskType, counts] of Object.entries(stats.byType)) {
        for (const status of TASK_STATUSES) this.set({ status, task_type: taskType }, counts[status] ?? 0);
      }
    },
  });
  new Gauge({
    name: 'conveyor_workers_live',
    help: 'Workers whose heartbeat is recent',
    registers: [registry],
    async collect() {
      this.set((await liveWorkers(ctx)).length);
    },
  });
  // Scoped breakers (a webhook's destination host) are counted, not listed: a host is another user's
  // data, and one label value per host would grow without bound.
  const breakers = async () => {
    const now = ctx.clock.now();
    return (await ctx.engine.breakerList()).map((breaker) => ({ breaker, state: breakerStateAt(breaker, now) }));
  };
  new Gauge({
    name: 'conveyor_circuit_breaker_state',
    help: 'Circuit breaker per task type: 0 closed, 1 half-open, 2 open',
    labelNames: ['task_type'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { breaker, state } of await breakers()) if (breaker.scope === null) this.set({ task_type: breaker.taskType }, BREAKER_STATE_VALUE[state]);
    },
  });
  new Gauge({
    name: 'conveyor_circuit_breaker_open_scopes',
    help: "Open circuit breakers of one scope of a task type (a webhook's destination host), per type",
    labelNames: ['task_type'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const open = new Map<string, number>();
      for (const { breaker, state } of await breakers()) if (breaker.scope !== null && state === 'open') open.set(breaker.taskType, (open.get(breaker.taskType) ?? 0) + 1);
      for (const [taskType, count] of open) this.set({ task_type: taskType }, count);
    },
  });

  new Gauge({
    name: 'conveyor_task_type_paused',
    help: 'Task types paused by hand (1), whose tasks wait until resumed',
    labelNames: ['task_type'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const pause of await ctx.engine.typePauseList()) this.set({ task_type: pause.taskType }, 1);
    },
  });
  new Gauge({
    name: 'conveyor_schedules_overdue',
    help: 'Enabled schedules whose run is over a minute late: no worker leads to fire them',
    registers: [registry],
    async collect() {
      const late = ctx.clock.nowMs() - OVERDUE_SCHEDULE_MS;
      this.set((await ctx.engine.scheduleList({})).filter((s) => s.enabled && s.nextRunAt !== null && s.nextRunAt.getTime() < late).length);
    },
  });

  // The database's health, read once per scrape for the three gauges below.
  let storage: Promise<StorageStats> | null = null;
  const storageStats = () => (storage ??= ctx.engine.storageStats({ now: ctx.clock.now() }));
  new Gauge({
    name: 'conveyor_table_dead_rows',
    help: 'Dead row versions per table awaiting vacuum (PostgreSQL)',
    labelNames: ['table'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const table of (await storageStats()).tables) this.set({ table: table.name }, table.deadRows);
    },
  });
  new Gauge({
    name: 'conveyor_oldest_transaction_seconds',
    help: 'How long the longest-open transaction on the database has been open: it holds back vacuum (PostgreSQL)',
    registers: [registry],
    async collect() {
      this.set(((await storageStats()).oldestTransaction?.ageMs ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'conveyor_sqlite_wal_bytes',
    help: 'Size of the SQLite write-ahead log (SQLite)',
    registers: [registry],
    async collect() {
      this.set((await storageStats()).walBytes ?? 0);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) };
    requests.inc(labels);
    durations.observe(labels, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!presents(request, tokenDigest)) {
      void reply.header('www-authenticate', 'Bearer realm="metrics"');
      throw new ApiError('UNAUTHORIZED', 'GET /metrics needs Authorization: Bearer <server.metrics_token>');
    }
    storage = null;
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Whether the request carries the metrics token; compared in constant time (digests of equal length). */
function presents(request: FastifyRequest, tokenDigest: Buffer): boolean {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match !== null && timingSafeEqual(digest(match[1]!), tokenDigest);
}
