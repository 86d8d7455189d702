import type { Logger } from '../core/logger.ts';
import { openEngine } from '../store/create-engine.ts';
import type { Engine } from '../store/engine.ts';
import type { TaskRegistry } from '../tasks/task-registry.ts';
import type { Config } from './config.ts';
import { createLogger } from './logger.ts';
import { createTaskRegistry } from './task-catalog.ts';
import { loadTaskModules } from './task-modules.ts';

/**
 * The composition root of the long-running commands (`conveyor serve`, `conveyor work`, `conveyor
 * start`): one place that turns a resolved Config into the parts they share, in the order they
 * depend on each other: logger -> engine -> task registry.
 */
export interface Runtime {
  config: Config;
  /** The process's logger (JSON lines on stdout at log.level). */
  logger: Logger;
  engine: Engine;
  registry: TaskRegistry;
}

export interface ComposeOptions {
  /** The process's logger, when the caller needs it before the rest (default: processLogger(config)). */
  logger?: Logger;
  /** Further fields on the engine's lines only (the worker's id). */
  engineBindings?: Record<string, unknown>;
  /** Task types to run instead of the built-in ones and tasks.modules (a test worker's). */
  registry?: TaskRegistry;
}

/** The logger of a long-running process: JSON lines on stdout at log.level, with `bindings` on every line. */
export function processLogger(config: Config, bindings?: Record<string, unknown>): Logger {
  return createLogger({ level: config.log.level, ...(bindings ? { bindings } : {}) });
}

/** The configured engine, not migrated; the caller closes it. */
function openConfiguredEngine(config: Config, logger?: Logger): Promise<Engine> {
  return openEngine(config.database.url, logger ? { logger } : {});
}

/**
 * Builds logger, engine and registry from `config`. The registry (and so tasks.modules) is loaded
 * before anything touches the database, so a configuration mistake stops the process at once; if it
 * fails, the engine is closed again. The caller closes the engine.
 */
export async function composeRuntime(config: Config, options: ComposeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? processLogger(config);
  const engine = await openConfiguredEngine(config, options.engineBindings ? logger.child(options.engineBindings) : logger);
  try {
    const registry = options.registry ?? createTaskRegistry(config, engine, await loadTaskModules(config.tasks.modules));
    return { config, logger, engine, registry };
  } catch (error) {
    await engine.close().catch(() => {});
    throw error;
  }
}
