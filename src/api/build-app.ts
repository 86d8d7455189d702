import { createRequire } from 'node:module';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { AuthService } from '../auth/auth-service.ts';
import { ApiError } from './api-error.ts';
import type { ApiContext, ApiDeps } from './api-context.ts';
import { toFastifyLogger } from './fastify-logger.ts';
import { installDashboard } from './plugins/dashboard.ts';
import { installDocs } from './plugins/docs.ts';
import { installErrorHandling } from './plugins/error-handling.ts';
import { installJsonBodyParser } from './plugins/json-body.ts';
import { installMetrics } from './plugins/metrics.ts';
import { installRequestIdHeader, requestId } from './plugins/request-id.ts';
import { installSecurity } from './plugins/security.ts';
import { RateLimiter } from './rate-limiter.ts';
import { installApiRoutes } from './routes/api-routes.ts';
import { SHARED_SCHEMAS } from './schemas/shared-schemas.ts';
import { TaskTypeCatalog } from '../tasks/task-type-catalog.ts';

/**
 * The HTTP API as a Fastify instance, not yet listening: `await app.listen({ port, host })` to serve,
 * `await app.close()` to stop (the engine is the caller's to close). Creates the configured first
 * admin when the app becomes ready.
 */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const ctx: ApiContext = {
    ...deps,
    auth: new AuthService({ engine: deps.engine, config: config.auth, clock: deps.clock, logger: deps.logger }),
    taskTypes: new TaskTypeCatalog({ engine: deps.engine, clock: deps.clock, cacheMs: config.taskTypeCacheMs, registry: deps.registry }),
    taskCreateLimit: new RateLimiter({ max: config.rateLimit.taskCreatePerMinute, windowMs: 60_000, clock: deps.clock }),
    registerLimit: new RateLimiter({ max: config.auth.registerPerMinute, windowMs: 60_000, clock: deps.clock }),
    version: deps.version ?? packageVersion(),
    startedAt: Date.now(),
  };

  const app = Fastify({
    loggerInstance: toFastifyLogger(deps.logger),
    genReqId: requestId,
    requestIdHeader: false,
    bodyLimit: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy,
    // Unknown fields are refused (400 naming them) rather than silently dropped; query strings are coerced.
    // verbose: errors carry their schema, so a failed union or enum is described in words (validation-failure.ts).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false, verbose: true } },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });

  installRequestIdHeader(app);
  installErrorHandling(app);
  installJsonBodyParser(app);
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await installSecurity(app, config);
  if (config.rateLimit.globalPerMinute > 0) {
    await app.register(rateLimit, {
      global: true,
      max: config.rateLimit.globalPerMinute,
      timeWindow: 60_000,
      errorResponseBuilder: (_request, context) =>
        new ApiError('RATE_LIMITED', `Too many requests from this address; retry in ${context.after}`, { retryAfterMs: context.ttl }),
    });
  }
  if (config.docs.enabled) await installDocs(app, ctx);
  if (config.metrics.enabled) await installMetrics(app, ctx);
  await installApiRoutes(app, ctx);
  // The web UI at `/` (its files under /ui/); it talks to the routes above like any client.
  await installDashboard(app);

  app.addHook('onReady', async () => {
    await ctx.auth.ensureInitialAdmin();
  });
  return app;
}

function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
