import { ApiError } from '../api-error.ts';
import type { ApiContext, App } from '../api-context.ts';
import { liveWorkers } from '../live-workers.ts';
import { Ok, errors } from '../schemas/common.ts';
import { HealthView, LiveView, ReadyView } from '../schemas/monitoring-schemas.ts';

/** Health probes, all public: /health (overall), /health/live (the process), /health/ready (can serve). */
export function healthRoutes(app: App, ctx: ApiContext): void {
  app.get('/health', {
    config: { access: 'public' },
    schema: { operationId: 'getHealth', tags: ['monitoring'], summary: 'Overall health (503 when the database is unreachable)', response: { 200: Ok(HealthView), ...errors(503) } },
  }, async () => {
    await pingOrThrow(ctx);
    return {
      success: true as const,
      data: {
        status: 'healthy' as const,
        version: ctx.version,
        engine: ctx.engine.kind,
        uptime_seconds: (Date.now() - ctx.startedAt) / 1000,
        timestamp: ctx.clock.now().toISOString(),
        documentation: { openapi_json: '/api-docs/openapi.json', api_docs: '/api-docs' },
      },
    };
  });

  app.get('/health/live', {
    config: { access: 'public' },
    schema: { operationId: 'getLiveness', tags: ['monitoring'], summary: 'Liveness: the process answers', response: { 200: Ok(LiveView) } },
  }, async () => ({ success: true as const, data: { status: 'alive' as const, timestamp: ctx.clock.now().toISOString() } }));

  app.get('/health/ready', {
    config: { access: 'public' },
    schema: {
      operationId: 'getReadiness',
      tags: ['monitoring'],
      summary: 'Readiness: the database answers (and, if configured, a worker is live)',
      response: { 200: Ok(ReadyView), ...errors(503) },
    },
  }, async () => {
    let database: { status: string; message?: string } = { status: 'ok' };
    let workers: { status: string; live: number; message?: string } = { status: 'unknown', live: 0 };
    try {
      await ctx.engine.ping();
      const live = (await liveWorkers(ctx)).length;
      workers = live > 0 ? { status: 'ok', live } : { status: 'none', live, message: 'no worker has sent a heartbeat recently; tasks will wait' };
    } catch {
      database = { status: 'error', message: 'the database did not answer' };
    }
    const ready = database.status === 'ok' && (!ctx.config.health.readyRequiresWorker || workers.live > 0);
    const data = { status: ready ? ('ready' as const) : ('not_ready' as const), timestamp: ctx.clock.now().toISOString(), checks: { database, workers } };
    if (!ready) throw new ApiError('SERVICE_UNAVAILABLE', 'Not ready', { details: data });
    return { success: true as const, data };
  });
}

async function pingOrThrow(ctx: ApiContext): Promise<void> {
  try {
    await ctx.engine.ping();
  } catch {
    throw new ApiError('SERVICE_UNAVAILABLE', 'The database did not answer', { details: { status: 'unhealthy', engine: ctx.engine.kind } });
  }
}
