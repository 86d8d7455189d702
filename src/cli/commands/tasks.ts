import type { Command } from 'commander';
import { taskDetail, taskSummary } from '../../api/views/task-view.ts';
import { liveWorkerTaskTypes } from '../../api/views/worker-view.ts';
import { systemClock } from '../../core/clock.ts';
import { FINISHED_STATUSES, TASK_PRIORITIES, TASK_STATUSES, type TaskPriority, type TaskRecord, type TaskStatus } from '../../core/task.ts';
import { typeHandling } from '../../core/type-handling.ts';
import type { Engine } from '../../store/engine.ts';
import { withEngine } from '../cli-engine.ts';
import { cliAction, CliError, EXIT, type ExitCode } from '../cli-error.ts';
import { loadConfig } from '../config.ts';
import { parseIntFlag, parseListFlag, printJson, printJsonList, formatListTotal, println } from '../output.ts';
import { confirmDeletion } from '../prompt.ts';
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

/** `conveyor tasks [list]|show|cancel|retry|delete`: the operator's view of single tasks. */
export function registerTasksCommand(program: Command): void {
  const tasks = program
    .command('tasks')
    .description('List, inspect, cancel, retry and delete tasks')
    .addHelpText('after', '\nTask ids may be shortened to a unique prefix of 4+ characters (as with git).');

  tasks
    .command('list', { isDefault: true })
    .description('List tasks, newest first (the default)')
    .option('-s, --status <list>', `comma-separated statuses: ${TASK_STATUSES.join(', ')}`)
    .option('-t, --type <list>', 'comma-separated task types')
    .option('-p, --priority <list>', `comma-separated priorities: ${TASK_PRIORITIES.join(', ')}`)
    .option('-n, --limit <n>', 'how many (1-1000)', '20')
    .option('--cursor <cursor>', 'continue after a previous page (printed at its end)')
    .option('--json', 'print JSON: {items, total, next_cursor}')
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
            printJsonList(page.tasks.map(taskSummary), page);
            return;
          }
          if (page.tasks.length === 0) {
            println('No tasks match.');
            return;
          }
          println(formatTaskList(page.tasks, systemClock.now()));
          println();
          println(`${page.tasks.length} shown of ${formatListTotal(page)} matching.`);
          if (page.nextCursor) println(`More: add --cursor ${page.nextCursor}`);
        });
      }),
    );

  tasks
    .command('show')
    .alias('get')
    .description('Show one task in full: payload, output, attempts and errors')
    .argument('<id>', 'task id (or a unique prefix)')
    .option('--json', 'print the task as JSON (the API\'s shape)')
    .action(
      cliAction(async (ref: string, options: { json?: boolean }) => {
        const config = loadConfig();
        await withEngine(config, async (engine) => {
          const [task, workers] = await Promise.all([findTask(engine, ref), engine.workerList()]);
          const now = systemClock.now();
          const handling = typeHandling(task.taskType, liveWorkerTaskTypes(workers, now, config.server.worker_live_ms));
          if (options.json) printJson({ ...taskDetail(task), handling: { state: handling.state, live_workers: handling.liveWorkers } });
          else println(formatTaskDetail(task, now, handling));
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

  actionCommand(
    tasks,
    'delete',
    'Delete finished tasks (completed, failed or cancelled); says how many and asks first',
    async (engine, id) => {
      const outcome = await engine.taskDelete({ id });
      const messages = { deleted: 'deleted', not_finished: 'not deleted: it has not finished (cancel it first)', not_found: 'not found' };
      return { outcome, status: null, exitCode: codeOf(outcome), message: messages[outcome] };
    },
    {
      // Only finished tasks can go; the others are reported as they are, without a question.
      confirm: async (found, yes) => {
        const finished = found.filter((t) => (FINISHED_STATUSES as readonly string[]).includes(t.status));
        if (finished.length === 0) return;
        const ids = finished.slice(0, 5).map((t) => t.id).join(', ') + (finished.length > 5 ? ', ...' : '');
        await confirmDeletion(`${finished.length} finished task${finished.length === 1 ? '' : 's'} would be deleted (${ids})`, yes);
      },
    },
  );
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
  options: { confirm?: (found: TaskRecord[], yes: boolean | undefined) => Promise<void> } = {},
): void {
  const command = parent
    .command(name)
    .description(description)
    .argument('<ids...>', 'task ids (or unique prefixes)')
    .option('--json', 'print JSON: {items: [{id, outcome, status}]}');
  if (options.confirm) command.option('-y, --yes', 'delete without asking (needed when there is no terminal)');
  command.action(
    cliAction(async (refs: string[], flags: { json?: boolean; yes?: boolean }) => {
      const results: ActionResult[] = [];
      await withEngine(loadConfig(), async (engine) => {
        const found: { ref: string; task: TaskRecord | null; problem?: ActionResult }[] = [];
        for (const ref of refs) {
          try {
            found.push({ ref, task: await findTask(engine, ref) });
          } catch (error) {
            if (!(error instanceof CliError)) throw error;
            const outcome = error.exitCode === EXIT.NOT_FOUND ? 'not_found' : 'invalid_id';
            found.push({ ref, task: null, problem: { ref, id: null, outcome, status: null, exitCode: error.exitCode, message: error.message } });
          }
        }
        await options.confirm?.(found.flatMap((f) => (f.task ? [f.task] : [])), flags.yes);
        for (const f of found) results.push(f.problem ?? { ref: f.ref, id: f.task!.id, ...(await act(engine, f.task!.id)) });
      });
      if (flags.json) {
        printJson({ items: results.map((r) => ({ id: r.id ?? r.ref, outcome: r.outcome, status: r.status })) });
      } else {
        for (const r of results) println(`${r.id ?? r.ref}: ${r.message}`);
      }
      process.exitCode = Math.max(...results.map((r) => r.exitCode));
    }),
  );
}
