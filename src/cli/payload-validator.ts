import { systemClock } from '../core/clock.ts';
import type { Engine } from '../store/engine.ts';
import type { Config } from './config.ts';

/** The API's check of type and payload: the types workers registered plus the ones this process knows. */
export async function payloadValidator(config: Config, engine: Engine): Promise<(taskType: string, payload: unknown) => Promise<void>> {
  // Loaded here, not at the top: the built-in types pull in SMTP and HTTP clients that --no-validate does without.
  const [{ TaskTypeCatalog }, { createTaskRegistry }, { loadTaskModules }] = await Promise.all([
    import('../tasks/task-type-catalog.ts'),
    import('./task-catalog.ts'),
    import('./task-modules.ts'),
  ]);
  const registry = createTaskRegistry(config, engine, await loadTaskModules(config.tasks.modules));
  const catalog = new TaskTypeCatalog({ engine, clock: systemClock, cacheMs: 60_000, registry });
  return (taskType, payload) => catalog.validate(taskType, payload);
}
