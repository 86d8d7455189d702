import type { Command } from 'commander';
import { taskDetail, taskSummary } from '../../api/views/task-view.ts';
import { systemClock } from '../../core/clock.ts';
import { TASK_PRIORITIES, TASK_STATUSES, type TaskPriority, type TaskStatus } from '../../core/task.ts';
import type { Engine } from '../../store/engine.ts';
import { withEngine } from '../cli-engine.ts';
import { cliAction, CliError, EXIT, type ExitCode } from '../cli-error.ts';
import { loadConfig } from '../config.ts';
import { parseIntFlag, parseListFlag, printJson, println } from '../output.ts';
import { findTask } from '../task-ref.ts';
import { formatTaskDetail, formatTaskList } from '../task-render.ts';

interface ListOptions {
  status?: string;
  type?: string;
  priority?: string;
  limit: string;
  cursor?: string;
  json?: boolean;
}

/** One id's result in cancel/retry/delete: what happened, and the exit code it stands for. */
interface ActionResult {
  ref: string;
  id: string | null;
  outcome: string;
  status: TaskStatus | null;
  exitCode: ExitCode;
  message: string;
}

/** `conveyor tasks list|show|cancel|retry|delete`: the operator's view of single tasks. */
export function registerTasksCommand(program: Command): void {
  const tasks = program
    .command('tasks')
    .description('List, inspect, cancel, retry and delete tasks')
    .addHelpText('after', '\nTask ids may be shortened to a unique prefix of 4+ characters (as with git).');

  tasks
    .command('list')
    .description('List tasks, newest first')
    .option('-s, --status <list>', `comma-separated statuses: ${TASK_STATUSES.join(', ')}`)
    .option('-t, --type <list>', 'comma-separated task types')
    .option('-p, --priority <list>', `comma-separated priorities: ${TASK_PRIORITIES.join(', ')}`)
    .option('-n, --limit <n>', 'how many (1-1000)', '20')
    .option('--cursor <cursor>', 'continue after a previous page (printed at its end)')
    .option('--json', 'print JSON: {tasks, next_cursor, total}')
    .action(
      cliAction(async (options: ListOptions) => {
        const status = parseListFlag<TaskStatus>(options.status, '--status', TASK_STATUSES);
        const priority = parseListFlag<TaskPriority>(options.priority, '--priority', TASK_PRIORITIES);
        const taskType = parseListFlag(options.type, '--type');
        const limit = parseIntFlag(options.limit, '--limit', 1, 1000);
        await withEngine(loadConfig(), async (engine) => {
          const page = await engine.taskList({
            limit,
            withTotal: true,
            ...(status ? { status } : {}),
            ...(priority ? { priority } : {}),
            ...(taskType ? { taskType } : {}),
            ...(options.cursor ? { cursor: options.cursor } : {}),
          });
          if (options.json) {
            printJson({ tasks: page.tasks.map(taskSummary), next_cursor: page.nextCursor, total: page.total });
            return;
          }
          if (page.tasks.length === 0) {
            println('No tasks match.');
            return;
          }
          println(formatTaskList(page.tasks, systemClock.now()));
          println();
          println(`${page.tasks.length} shown of ${page.total ?? '?'} matching.`);
          if (page.nextCursor) println(`More: add --cursor ${page.nextCursor}`);
        });
      }),
    );

  tasks
    .command('show')
    .description('Show one task in full: payload, output, attempts and errors')
    .argument('<id>', 'task id (or a unique prefix)')
    .option('--json', 'print the task as JSON (the API\'s shape)')
    .action(
      cliAction(async (ref: string, options: { json?: boolean }) => {
        await withEngine(loadConfig(), async (engine) => {
          const task = await findTask(engine, ref);
          if (options.json) printJson(taskDetail(task));
          else println(formatTaskDetail(task, systemClock.now()));
        });
      }),
    );

  actionCommand(tasks, 'cancel', 'Cancel tasks: waiting ones at once; running ones are asked to stop (their handler is aborted)', async (engine, id) => {
    const { outcome, task } = await engine.taskCancel({ id, now: systemClock.now() });
    const messages = {
      cancelled: 'cancelled',
      cancel_requested: 'running: cancel requested, the worker aborts its handler',
      not_cancellable: `not cancellable: it is ${task?.status ?? 'finished'}`,
      not_found: 'not found',
    };
    return { outcome, status: task?.status ?? null, exitCode: codeOf(outcome), message: messages[outcome] };
  });

  actionCommand(tasks, 'retry', 'Run failed or cancelled tasks again, due now (a task whose attempts are spent gets one more)', async (engine, id) => {
    const { outcome, task } = await engine.taskRetry({ id, now: systemClock.now() });
    const messages = {
      retried: `queued again (attempt ${(task?.currentAttempt ?? 0) + 1} of ${task?.maxAttempts ?? '?'})`,
      not_retryable: `not retryable: it is ${task?.status ?? 'not failed'} (only failed or cancelled tasks can be retried)`,
      not_found: 'not found',
    };
    return { outcome, status: task?.status ?? null, exitCode: codeOf(outcome), message: messages[outcome] };
  });

  actionCommand(tasks, 'delete', 'Delete finished tasks (completed, failed or cancelled)', async (engine, id) => {
    const outcome = await engine.taskDelete({ id });
    const messages = { deleted: 'deleted', not_finished: 'not deleted: it has not finished (cancel it first)', not_found: 'not found' };
    return { outcome, status: null, exitCode: codeOf(outcome), message: messages[outcome] };
  });
}

function codeOf(outcome: string): ExitCode {
  if (outcome === 'not_found') return EXIT.NOT_FOUND;
  if (outcome.startsWith('not_')) return EXIT.INVALID_STATE;
  return EXIT.OK;
}

/**
 * cancel, retry and delete share a shape: several ids, one line each, and the exit code of the worst
 * outcome (3 when one was not found, 4 when one was in the wrong state).
 */
function actionCommand(
  parent: Command,
  name: string,
  description: string,
  act: (engine: Engine, id: string) => Promise<Omit<ActionResult, 'ref' | 'id'>>,
): void {
  parent
    .command(name)
    .description(description)
    .argument('<ids...>', 'task ids (or unique prefixes)')
    .option('--json', 'print JSON: [{id, outcome, status}]')
    .action(
      cliAction(async (refs: string[], options: { json?: boolean }) => {
        const results: ActionResult[] = [];
        await withEngine(loadConfig(), async (engine) => {
          for (const ref of refs) {
            let id: string;
            try {
              id = (await findTask(engine, ref)).id;
            } catch (error) {
              if (!(error instanceof CliError)) throw error;
              results.push({ ref, id: null, outcome: error.exitCode === EXIT.NOT_FOUND ? 'not_found' : 'invalid_id', status: null, exitCode: error.exitCode, message: error.message });
              continue;
            }
            results.push({ ref, id, ...(await act(engine, id)) });
          }
        });
        if (options.json) {
          printJson(results.map((r) => ({ id: r.id ?? r.ref, outcome: r.outcome, status: r.status })));
        } else {
          for (const r of results) println(`${r.id ?? r.ref}: ${r.message}`);
        }
        process.exitCode = Math.max(...results.map((r) => r.exitCode));
      }),
    );
}
