import type { Command } from 'commander';
import { isConveyorError, ERROR_CODES } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { redactDatabaseUrl } from '../../store/database-url.ts';
import type { TaskRegistry } from '../../tasks/task-registry.ts';
import { defaultWorkerId, Worker } from '../../worker/worker.ts';
import { composeRuntime } from '../compose.ts';
import { loadConfig, quotaConfigFrom } from '../config.ts';
import { envWithFlags } from '../flag-settings.ts';

export interface RunWorkOptions {
  /** The task types this process can run; default: every built-in type, configured. */
  registry?: TaskRegistry;
  env?: Record<string, string | undefined>;
  /** Apply pending migrations before starting (default true; safe with several processes). */
  migrate?: boolean;
  /**
   * This process is the worker (`conveyor work`, a test worker process): SIGTERM and SIGINT stop it,
   * and an unhandled rejection or exception is logged (and the latter exits). Default false: run
   * inside someone else's process, it leaves that process's handlers alone and stops on `signal`.
   * The handlers are removed again when the worker has stopped.
   */
  processHandlers?: boolean;
  /** Aborting it stops the worker gracefully (as a first SIGTERM does). */
  signal?: AbortSignal;
}

/**
 * Runs one worker until SIGTERM or SIGINT (with `processHandlers`) or `signal`: config -> logger ->
 * engine -> worker. The first signal stops claiming and waits up to worker.shutdown_grace_ms for
 * running tasks, then hands the rest back; a second signal skips the rest of the wait. Resolves with
 * the exit code.
 *
 * Exported so that other entry points (a test worker with extra task types, a user's own script) run
 * a worker exactly as `conveyor work` does.
 */
export async function runWork(options: RunWorkOptions): Promise<number> {
  const config = loadConfig(options.env ?? process.env);
  // Every line this process writes carries the worker id, the engine's included.
  const workerId = defaultWorkerId();
  // The registry is built before anything touches the database, so a configuration mistake stops us at once.
  const { logger: root, engine, registry } = await composeRuntime(config, {
    engineBindings: { worker_id: workerId },
    ...(options.registry ? { registry: options.registry } : {}),
  });
  const logger = root.child({ worker_id: workerId });
  let signals = 0;
  const worker = new Worker({ engine, registry, config, logger: root, id: workerId, quotas: quotaConfigFrom(config) });
  let stopRequested: () => void = () => {};
  const stopSignal = new Promise<void>((resolve) => (stopRequested = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    logger.info({ signal }, signals === 1 ? 'shutting down gracefully (send again to stop at once)' : 'stopping at once');
    stopRequested();
    void worker.stop(signals === 1 ? {} : { graceMs: 0 });
  };
  const removeHandlers = options.processHandlers ? installProcessHandlers(logger, onSignal) : () => {};
  const onAbort = () => onSignal('SIGTERM');
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    logger.info({ database: redactDatabaseUrl(config.database.url), engine: engine.kind }, 'starting worker');
    if (options.migrate ?? true) {
      const migrated = await untilAvailable(() => engine.migrate(), stopSignal, logger, 'migrate the database');
      if (migrated === null) return 0;
      for (const step of migrated.applied) logger.info({ version: step.version, migration: step.name }, 'migration applied');
    }
    if (signals > 0) return 0;
    await worker.start();
    await stopSignal;
    await worker.stop(signals > 1 ? { graceMs: 0 } : {});
    return 0;
  } finally {
    await engine.close().catch((error: unknown) => logger.warn({ err: error }, 'could not close the engine cleanly'));
    options.signal?.removeEventListener('abort', onAbort);
    removeHandlers();
  }
}

/** The handlers a worker process needs on its own process; returns the function that removes them. */
function installProcessHandlers(logger: Logger, onSignal: (signal: NodeJS.Signals) => void): () => void {
  // A handler that leaves a promise rejected must not take the worker (and every other task) down.
  const onRejection = (reason: unknown) => logger.error({ err: reason }, 'unhandled promise rejection (ignored)');
  const onException = (error: Error) => {
    // The process state is unknown now; leases expire and the rescuer hands the tasks to others.
    logger.error({ err: error }, 'uncaught exception: exiting');
    process.exit(1);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}

/** Tries while the database is unreachable (a worker may start before its database); null if asked to stop meanwhile. */
async function untilAvailable<T>(fn: () => Promise<T>, stop: Promise<void>, logger: Logger, what: string): Promise<T | null> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  for (let failures = 0; ; failures++) {
    try {
      return await fn();
    } catch (error) {
      if (!isConveyorError(error, ERROR_CODES.DATABASE_UNAVAILABLE)) throw error;
      if (failures === 0 || failures % 10 === 0) logger.warn({ err: error }, `could not ${what}; retrying`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, Math.min(5000, 250 * 2 ** failures)))), stop]);
      clearTimeout(timer);
      if (stopped) return null;
    }
  }
}

export function registerWorkCommand(program: Command): void {
  program
    .command('work')
    .description('Run one worker process: claims and runs tasks until SIGTERM or SIGINT')
    .option('-c, --concurrency <n>', 'tasks run at once (worker.concurrency)')
    .option('-t, --task-types <list>', 'comma-separated task types to take (worker.task_types; default all)')
    .option('--tasks <files>', 'comma-separated modules exporting your own task definitions (tasks.modules)')
    .option('--no-migrate', 'do not apply pending migrations at start')
    .action(async (options: { concurrency?: string; taskTypes?: string; tasks?: string; migrate: boolean }) => {
      const env = envWithFlags(process.env, [
        { flag: '--concurrency', env: 'CONVEYOR__WORKER__CONCURRENCY', value: options.concurrency },
        { flag: '--task-types', env: 'CONVEYOR__WORKER__TASK_TYPES', value: options.taskTypes },
        { flag: '--tasks', env: 'CONVEYOR__TASKS__MODULES', value: options.tasks },
      ]);
      process.exitCode = await runWork({ env, migrate: options.migrate, processHandlers: true });
    });
}

