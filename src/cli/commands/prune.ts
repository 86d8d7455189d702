import type { Command } from 'commander';
import { systemClock } from '../../core/clock.ts';
import { FINISHED_STATUSES } from '../../core/task.ts';
import type { Engine } from '../../store/engine.ts';
import { withEngine } from '../cli-engine.ts';
import { cliAction, CliError, EXIT } from '../cli-error.ts';
import { loadConfig } from '../config.ts';
import { formatDuration, parseDuration, printJson, println } from '../output.ts';
import { confirmDeletion } from '../prompt.ts';
import { PRUNE_BATCH, VACUUM_AFTER_ROWS } from '../../worker/maintenance/pruner.ts';

/** A page of the dry run's walk (the list's largest). */
const LIST_PAGE = 1000;

/**
 * Deletes finished tasks that finished before `before`, in batches so no transaction grows large;
 * after a large clean-up, vacuums the tasks table (PostgreSQL) so the next inserts reuse the space.
 */
export async function pruneFinished(engine: Engine, before: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await engine.taskPrune({ finishedBefore: before, limit: PRUNE_BATCH });
    total += deleted;
    if (deleted < PRUNE_BATCH) break;
  }
  // Waited for here (the maintenance's Pruner vacuums in the background): the command ends after it.
  if (total >= VACUUM_AFTER_ROWS) await engine.taskVacuum();
  return total;
}

/**
 * What pruneFinished would delete, counted without deleting: the engine's prune has no dry run, so
 * this walks the finished tasks created before the cutoff (a task finishes after it is created) and
 * counts those that also finished before it.
 */
export async function countPrunable(engine: Engine, before: Date): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await engine.taskList({ status: FINISHED_STATUSES, createdBefore: before, limit: LIST_PAGE, ...(cursor ? { cursor } : {}) });
    count += page.tasks.filter((t) => t.completedAt !== null && t.completedAt.getTime() < before.getTime()).length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return count;
}

/** `conveyor prune`: retention by hand (workers also prune by worker.retention_ms on their own). */
export function registerPruneCommand(program: Command): void {
  program
    .command('prune')
    .description('Delete finished tasks (completed, failed, cancelled) older than the retention; asks first')
    .option('--older-than <duration>', 'finished longer ago than this, with a unit: 30d, 12h, 90m (default: worker.retention_ms)')
    .option('--dry-run', 'only count what would be deleted')
    .option('-y, --yes', 'delete without asking (needed when there is no terminal, as in cron)')
    .option('--json', 'print JSON: {deleted, finished_before} (with --dry-run {would_delete, finished_before})')
    .addHelpText(
      'after',
      '\nOn a terminal it says how many tasks would go and asks; without a terminal it deletes only with --yes.\n' +
        'Workers prune on their own by worker.retention_ms (default 7 days); this command is for a one-off clean-up or a cron job when retention is 0.',
    )
    .action(
      cliAction(async (options: { olderThan?: string; dryRun?: boolean; yes?: boolean; json?: boolean }) => {
        const config = loadConfig();
        const olderThanMs = options.olderThan === undefined ? config.worker.retention_ms : parseDuration(options.olderThan, '--older-than');
        if (options.olderThan === undefined && olderThanMs <= 0) {
          throw new CliError('worker.retention_ms is 0 (keep finished tasks forever); say how old with --older-than, e.g. --older-than 30d', EXIT.USAGE);
        }
        const before = new Date(systemClock.now().getTime() - olderThanMs);
        const age = formatDuration(olderThanMs);
        const plural = (n: number) => `${n} finished task${n === 1 ? '' : 's'}`;
        await withEngine(config, async (engine) => {
          const count = await countPrunable(engine, before);
          if (options.dryRun) {
            if (options.json) printJson({ would_delete: count, finished_before: before.toISOString() });
            else println(`${plural(count)} finished more than ${age} ago (before ${before.toISOString()}) would be deleted.`);
            return;
          }
          if (count > 0) await confirmDeletion(`${plural(count)} finished more than ${age} ago (before ${before.toISOString()}) would be deleted`, options.yes);
          // Tasks that finished meanwhile past the cutoff go too: the count was a preview, this is the rule.
          const deleted = count === 0 ? 0 : await pruneFinished(engine, before);
          if (options.json) printJson({ deleted, finished_before: before.toISOString() });
          else println(`Deleted ${plural(deleted)} that finished more than ${age} ago (before ${before.toISOString()}).`);
        });
      }),
    );
}
