import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConveyorError, ERROR_CODES } from '../core/errors.ts';
import type { TaskDefinition } from '../tasks/define-task.ts';

function isTaskDefinition(value: unknown): value is TaskDefinition {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<TaskDefinition>;
  return typeof candidate.name === 'string' && typeof candidate.handler === 'function' && typeof candidate.payload === 'object';
}

/**
 * Loads the user's task types from modules (TypeScript runs as is): every export that is a task
 * definition, or an array of them, counts. `conveyor work --tasks ./tasks/greet.ts` or
 * CONVEYOR__TASKS__MODULES=./tasks/greet.ts,./tasks/resize.ts.
 */
export async function loadTaskModules(paths: readonly string[], cwd = process.cwd()): Promise<TaskDefinition[]> {
  const definitions: TaskDefinition[] = [];
  for (const path of paths) {
    const file = resolve(cwd, path);
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (error) {
      throw new ConveyorError(ERROR_CODES.CONFIG, `tasks.modules: could not load ${file}: ${(error as Error).message}`, { field: 'tasks.modules', cause: error });
    }
    const found = Object.values(module).flatMap((value) => (Array.isArray(value) ? value : [value])).filter(isTaskDefinition);
    if (found.length === 0) {
      throw new ConveyorError(ERROR_CODES.CONFIG, `tasks.modules: ${file} exports no task definition (export the result of defineTask())`, { field: 'tasks.modules' });
    }
    // `export default x` and `export const x` of the same definition count once.
    for (const definition of new Set(found)) definitions.push(definition);
  }
  return definitions;
}
