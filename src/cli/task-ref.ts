import type { TaskRecord } from '../core/task.ts';
import type { Engine } from '../store/engine.ts';
import { CliError, EXIT } from './cli-error.ts';

const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PREFIX = /^[0-9a-f][0-9a-f-]{3,34}$/i;

/**
 * The task a command-line reference names: a full id, or (like git) a unique start of one, at least
 * 4 characters. Not found exits 3; a prefix that matches several tasks is a usage error.
 */
export async function findTask(engine: Engine, ref: string): Promise<TaskRecord> {
  const text = ref.trim().toLowerCase();
  if (FULL_ID.test(text)) {
    const task = await engine.taskGet({ id: text });
    if (!task) throw new CliError(`no task ${text}`, EXIT.NOT_FOUND);
    return task;
  }
  if (!PREFIX.test(text)) throw new CliError(`"${ref}" is not a task id (or the first 4+ characters of one)`, EXIT.USAGE);
  const { tasks } = await engine.taskList({ idPrefix: text, limit: 2 });
  if (tasks.length === 0) throw new CliError(`no task id starts with ${text}`, EXIT.NOT_FOUND);
  if (tasks.length > 1) throw new CliError(`${text} is the start of several task ids; give more of it`, EXIT.USAGE);
  return tasks[0]!;
}
