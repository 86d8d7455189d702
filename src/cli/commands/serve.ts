import { join } from 'node:path';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { resolveApiConfig, type ApiConfig } from '../../api/api-config.ts';
import { buildApp } from '../../api/build-app.ts';
import { systemClock, type Clock } from '../../core/clock.ts';
import { isConveyorError, ERROR_CODES } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { redactDatabaseUrl } from '../../store/database-url.ts';
import type { Engine } from '../../store/engine.ts';
import type { TaskRegistry } from '../../tasks/task-registry.ts';
import { CliError } from '../cli-error.ts';
import { composeRuntime, processLogger } from '../compose.ts';
import { loadConfig, quotaConfigFrom, type Config } from '../config.ts';
import { envWithFlags } from '../flag-settings.ts';
import { listenError } from '../listen-error.ts';

/**
 * The API's settings, from the `server` and `auth` sections of the resolved config. Typed as a whole
 * ApiConfig, so every field comes from the config (none from DEFAULT_API_CONFIG), and a new API
 * setting does not compile until it is mapped here.
 */
export function apiConfigFrom(config: Config): ApiConfig {
  const s = config.server;
  const a = config.auth;
  const trust = s.trust_proxy.trim().toLowerCase();
  const api: ApiConfig = {
    server: {
      host: s.host,
      port: s.port,
      bodyLimitBytes: s.body_limit_bytes,
      batchBodyLimitBytes: s.batch_body_limit_bytes,
      corsOrigins: [...s.cors_origins],
      trustProxy: trust === 'true' ? true : trust === 'false' || trust === '' ? false : s.trust_proxy.split(',').map((p) => p.trim()),
    },
    auth: {
      sessionTtlMs: a.session_ttl_ms,
      sessionMaxLifetimeMs: a.session_max_lifetime_ms,
      refreshMinIntervalMs: a.refresh_min_interval_ms,
      initialAdminPassword: a.initial_admin_password === '' ? null : a.initial_admin_password,
      initialAdminUsername: a.initial_admin_username,
      initialAdminEmail: a.initial_admin_email,
      password: { minLength: a.password_min_length, maxLength: a.password_max_length, minClasses: a.password_min_classes, rejectCommon: a.password_reject_common },
      argon2: { memoryKiB: a.argon2_memory_kib, timeCost: a.argon2_time_cost, parallelism: a.argon2_parallelism },
      loginThrottle: {
        pairMaxFailures: a.login_max_failures,
        accountMaxFailures: a.login_account_max_failures,
        addressMaxFailures: a.login_address_max_failures,
        windowMs: a.login_window_ms,
        baseBlockMs: a.login_base_block_ms,
        maxBlockMs: a.login_max_block_ms,
      },
      registerPerMinute: a.register_per_minute,
      registration: a.registration,
      invitationTtlMs: a.invitation_ttl_ms,
      passwordResetTtlMs: a.password_reset_ttl_ms,
    },
    quotas: quotaConfigFrom(config),
    rateLimit: { taskCreatePerMinute: s.task_create_per_minute, globalPerMinute: s.rate_limit_per_minute },
    workers: { liveAfterMs: s.worker_live_ms },
    taskTypeCacheMs: s.task_type_cache_ms,
    health: { readyRequiresWorker: s.ready_requires_worker },
    docs: { enabled: s.docs },
    metrics: { enabled: s.metrics, token: s.metrics_token === '' ? null : s.metrics_token },
    // Where report_generation writes (the same default as src/cli/task-catalog.ts): GET /tasks/:id/artifact serves from here.
    reports: { artifactsDir: config.reports.artifacts_dir || join(config.data.dir, 'artifacts') },
  };
  // Only freezes: nothing is left for the defaults to fill.
  return resolveApiConfig(api);
}

/**
 * Builds the API on an open engine and starts listening on server.host:server.port. Exported for
 * entry points that run the API beside other things (`conveyor start` runs it with a worker).
 */
export async function startApiServer(p: { config: Config; engine: Engine; logger: Logger; registry: TaskRegistry; clock?: Clock }): Promise<FastifyInstance> {
  const apiConfig = apiConfigFrom(p.config);
  const app = await buildApp({ engine: p.engine, config: apiConfig, logger: p.logger, clock: p.clock ?? systemClock, registry: p.registry });
  try {
    await app.listen({ host: apiConfig.server.host, port: apiConfig.server.port });
  } catch (error) {
    await app.close().catch(() => {});
    throw listenError(error, apiConfig.server.host, apiConfig.server.port);
  }
  return app;
}

/**
 * `conveyor serve`: config -> logger -> engine (migrated) -> HTTP API, until SIGTERM or SIGINT, then
 * stops accepting connections, finishes the requests in flight and closes the engine.
 */
export async function runServe(options: { env?: Record<string, string | undefined>; migrate?: boolean } = {}): Promise<number> {
  const config = loadConfig(options.env ?? process.env);
  const logger = processLogger(config, { component: 'server' });
  const { engine, registry } = await composeRuntime(config, { logger }).catch((error: unknown) => {
    if (error instanceof CliError) logger.error({ exit_code: error.exitCode }, error.message);
    throw error;
  });
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down the API server');
    stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  let app: FastifyInstance | null = null;
  try {
    logger.info({ database: redactDatabaseUrl(config.database.url), engine: engine.kind }, 'starting the API server');
    if (options.migrate ?? true) {
      const report = await engine.migrate();
      for (const step of report.applied) logger.info({ version: step.version, name: step.name }, 'migration applied');
    }
    app = await startApiServer({ config, engine, logger, registry });
    await stopped;
    return 0;
  } catch (error) {
    if (isConveyorError(error, ERROR_CODES.DATABASE_UNAVAILABLE)) logger.error({ err: error }, 'the database is unavailable');
    if (error instanceof CliError) logger.error({ exit_code: error.exitCode }, error.message);
    throw error;
  } finally {
    await app?.close().catch((error: unknown) => logger.warn({ err: error }, 'could not close the API server cleanly'));
    await engine.close().catch((error: unknown) => logger.warn({ err: error }, 'could not close the engine cleanly'));
  }
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the HTTP API (server.host:server.port, default 127.0.0.1:3000) until SIGTERM or SIGINT')
    .option('-p, --port <port>', 'port to listen on (server.port)')
    .option('-H, --host <host>', 'address to listen on (server.host)')
    .option('--no-migrate', 'do not apply pending migrations at start')
    .action(async (options: { port?: string; host?: string; migrate: boolean }) => {
      const env = envWithFlags(process.env, [
        { flag: '--port', env: 'CONVEYOR__SERVER__PORT', value: options.port },
        { flag: '--host', env: 'CONVEYOR__SERVER__HOST', value: options.host },
      ]);
      process.exitCode = await runServe({ env, migrate: options.migrate });
    });
}
