import type { Command } from 'commander';
import { taskSummary } from '../../api/views/task-view.ts';
import { systemClock } from '../../core/clock.ts';
import type { TaskRecord } from '../../core/task.ts';
import type { Engine } from '../../store/engine.ts';
import { withEngine } from '../cli-engine.ts';
import { cliAction } from '../cli-error.ts';
import { loadConfig } from '../config.ts';
import { formatAgo, formatTable, parseDuration, parseIntFlag, parseListFlag, printJson, printJsonList, formatListTotal, println } from '../output.ts';
import { confirmDeletion } from '../prompt.ts';

const PAGE = 500;

/**
 * Every dead-letter task (status `failed`) of the given types, newest first, page by page. The cursor
 * (an id) only moves towards older tasks, so this is one pass: a task retried here that fails again
 * meanwhile is behind the cursor and is not visited twice.
 */
export async function* deadLetters(engine: Engine, taskType: string[] | undefined): AsyncGenerator<TaskRecord> {
  let cursor: string | undefined;
  do {
    const page = await engine.taskList({ status: ['failed'], limit: PAGE, ...(taskType ? { taskType } : {}), ...(cursor ? { cursor } : {}) });
    yield* page.tasks;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/** `conveyor dead-letter list|retry-all|purge`: the tasks that failed for good. */
export function registerDeadLetterCommand(program: Command): void {
  const deadLetter = program
    .command('dead-letter')
    .description('The dead letter: tasks that failed for good (status failed); list, retry or purge them');

  deadLetter
    .command('list', { isDefault: true })
    .description('List dead-letter tasks, newest first, with their last error (the default)')
    .option('-t, --type <list>', 'only these task types (comma-separated)')
    .option('-n, --limit <n>', 'how many (1-1000)', '20')
    .option('--cursor <cursor>', 'continue after a previous page (printed at its end)')
    .option('--json', 'print JSON: {items, total, next_cursor}')
    .action(
      cliAction(async (options: { type?: string; limit: string; cursor?: string; json?: boolean }) => {
        const taskType = parseListFlag(options.type, '--type');
        const limit = parseIntFlag(options.limit, '--limit', 1, 1000);
        await withEngine(loadConfig(), async (engine) => {
          const page = await engine.taskList({ status: ['failed'], limit, withTotal: true, ...(taskType ? { taskType } : {}), ...(options.cursor ? { cursor: options.cursor } : {}) });
          if (options.json) {
            printJsonList(page.tasks.map(taskSummary), page);
            return;
          }
          if (page.tasks.length === 0) {
            println('The dead letter is empty.');
            return;
          }
          const now = systemClock.now();
          println(
            formatTable(
              [{ header: 'ID' }, { header: 'TYPE', max: 24 }, { header: 'ATTEMPTS', right: true }, { header: 'FAILED' }, { header: 'LAST ERROR', max: 80 }],
              page.tasks.map((t) => [t.id, t.taskType, `${t.currentAttempt}/${t.maxAttempts}`, formatAgo(t.completedAt ?? t.updatedAt, now), t.lastError]),
            ),
          );
          println();
          println(`${page.tasks.length} shown of ${formatListTotal(page)}. Details: conveyor tasks show <id>. Run again: conveyor dead-letter retry-all${options.type ? ` --type ${options.type}` : ''}`);
          if (page.nextCursor) println(`More: add --cursor ${page.nextCursor}`);
        });
      }),
    );

  deadLetter
    .command('retry-all')
    .description('Run every dead-letter task (of the given types) again, due now')
    .option('-t, --type <list>', 'only these task types (comma-separated)')
    .option('--json', 'print JSON: {retried, skipped}')
    .action(
      cliAction(async (options: { type?: string; json?: boolean }) => {
        const taskType = parseListFlag(options.type, '--type');
        let retried = 0;
        let skipped = 0;
        await withEngine(loadConfig(), async (engine) => {
          for await (const task of deadLetters(engine, taskType)) {
            const { outcome } = await engine.taskRetry({ id: task.id, now: systemClock.now() });
            // Someone else retried or deleted it meanwhile.
            if (outcome === 'retried') retried += 1;
            else skipped += 1;
          }
        });
        if (options.json) printJson({ retried, skipped });
        else println(`Retried ${retried} dead-letter task${retried === 1 ? '' : 's'}${taskType ? ` of type ${taskType.join(', ')}` : ''}${skipped ? ` (${skipped} changed meanwhile, left alone)` : ''}.`);
      }),
    );

  deadLetter
    .command('purge')
    .description('Delete dead-letter tasks for good; says how many and asks first')
    .option('-t, --type <list>', 'only these task types (comma-separated)')
    .option('--older-than <duration>', 'only those that failed longer ago than this, with a unit (e.g. 7d, 12h)')
    .option('--dry-run', 'only count what would be deleted')
    .option('-y, --yes', 'delete without asking (needed when there is no terminal, as in cron)')
    .option('--json', 'print JSON: {deleted} (with --dry-run {would_delete})')
    .action(
      cliAction(async (options: { type?: string; olderThan?: string; dryRun?: boolean; yes?: boolean; json?: boolean }) => {
        const taskType = parseListFlag(options.type, '--type');
        const olderThanMs = options.olderThan === undefined ? null : parseDuration(options.olderThan, '--older-than');
        const cutoff = olderThanMs === null ? null : systemClock.now().getTime() - olderThanMs;
        const matches = (t: TaskRecord) => cutoff === null || (t.completedAt ?? t.updatedAt).getTime() < cutoff;
        const which = `${taskType ? ` of type ${taskType.join(', ')}` : ''}${options.olderThan ? ` older than ${options.olderThan}` : ''}`;
        const described = (n: number) => `${n} dead-letter task${n === 1 ? '' : 's'}${which}`;
        await withEngine(loadConfig(), async (engine) => {
          const ids: string[] = [];
          for await (const task of deadLetters(engine, taskType)) if (matches(task)) ids.push(task.id);
          if (options.dryRun) {
            if (options.json) printJson({ would_delete: ids.length });
            else println(`${described(ids.length)} would be deleted.`);
            return;
          }
          if (ids.length > 0) await confirmDeletion(`${described(ids.length)} would be deleted`, options.yes);
          let deleted = 0;
          // One by one: a task retried meanwhile is no longer finished, and taskDelete leaves it alone.
          for (const id of ids) if ((await engine.taskDelete({ id })) === 'deleted') deleted += 1;
          if (options.json) printJson({ deleted });
          else println(`Deleted ${described(deleted)}.`);
        });
      }),
    );
}
