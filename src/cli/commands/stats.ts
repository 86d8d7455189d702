import type { Command } from 'commander';
import { taskStatsView } from '../../api/views/stats-view.ts';
import { liveWorkerTaskTypes } from '../../api/views/worker-view.ts';
import { systemClock } from '../../core/clock.ts';
import { TASK_STATUSES, readyCount } from '../../core/task.ts';
import { unhandledTypes } from '../../core/type-handling.ts';
import { redactDatabaseUrl } from '../../store/database-url.ts';
import type { TaskStats } from '../../store/engine.ts';
import { withEngine } from '../cli-engine.ts';
import { cliAction } from '../cli-error.ts';
import { loadConfig } from '../config.ts';
import { formatDuration, formatTable, parseDuration, printJson, println } from '../output.ts';

/**
 * The stats as a table: one row per task type and a total, one column per status, then throughput,
 * and which waiting types no live worker takes. `liveWorkerTypes`: the task types of each live worker.
 */
export function formatStats(stats: TaskStats, where: string, liveWorkerTypes: readonly (readonly string[])[]): string {
  const types = Object.keys(stats.byType).sort();
  const columns = [{ header: 'TYPE' }, ...TASK_STATUSES.map((s) => ({ header: s.toUpperCase(), right: true })), { header: 'TOTAL', right: true }];
  const rows = types.map((type) => {
    const counts = stats.byType[type] ?? {};
    const total = TASK_STATUSES.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
    return [type, ...TASK_STATUSES.map((s) => counts[s] ?? 0), total];
  });
  rows.push(['all types', ...TASK_STATUSES.map((s) => stats.byStatus[s] ?? 0), stats.total]);
  const waiting = stats.oldestReadyAgeMs === null ? 'no task is waiting for a worker' : `the oldest ready task has waited ${formatDuration(stats.oldestReadyAgeMs)}`;
  return [
    `Tasks in ${where}`,
    '',
    formatTable(columns, rows),
    '',
    `Last minute: ${stats.completedLastMinute} completed, ${stats.failedLastMinute} failed.  Last hour: ${stats.completedLastHour} completed, ${stats.failedLastHour} failed.`,
    `Queue: ${waiting}.`,
    ...workerLines(stats, liveWorkerTypes),
  ].join('\n');
}

/** Nothing while every waiting type has a live worker; otherwise one line saying which wait for nobody. */
function workerLines(stats: TaskStats, liveWorkerTypes: readonly (readonly string[])[]): string[] {
  const waiting = readyCount(stats.byStatus);
  if (liveWorkerTypes.length === 0) return waiting === 0 ? [] : [`Workers: none live; ${waiting} waiting task${waiting === 1 ? '' : 's'} will start when one does.`];
  const unhandled = unhandledTypes(stats.byType, liveWorkerTypes);
  if (unhandled.length === 0) return [];
  return [`No live worker takes: ${unhandled.map((t) => `${t.taskType} (${t.waiting} waiting)`).join(', ')}. Start a worker with a handler for them, or cancel the tasks.`];
}

/** `conveyor stats [--watch [seconds]] [--json]`: counts by status and type, throughput, queue age. */
export function registerStatsCommand(program: Command): void {
  program
    .command('stats')
    .description('Task counts by status and type, throughput and queue age')
    .option('-w, --watch [seconds]', 'refresh every few seconds until Ctrl-C: 5 (seconds), 500ms, 1m (default 2)')
    .option('--json', 'print JSON (the API\'s /tasks/stats shape); with --watch, one line per refresh')
    .action(
      cliAction(async (options: { watch?: string | boolean; json?: boolean }) => {
        const config = loadConfig();
        const everyMs = typeof options.watch === 'string' ? parseDuration(options.watch, '--watch', { bareUnitMs: 1000 }) : options.watch ? 2000 : null;
        const where = redactDatabaseUrl(config.database.url);
        await withEngine(config, async (engine) => {
          const show = async () => {
            const now = systemClock.now();
            const [stats, workers] = await Promise.all([engine.taskStats({ now }), engine.workerList()]);
            const workerTypes = liveWorkerTaskTypes(workers, now, config.server.worker_live_ms);
            if (options.json) {
              const view = taskStatsView(stats, 'all', workerTypes);
              if (everyMs === null) printJson(view);
              else process.stdout.write(`${JSON.stringify({ at: now.toISOString(), ...view })}\n`);
              return;
            }
            const text = formatStats(stats, where, workerTypes);
            if (everyMs === null) println(text);
            else {
              // Redraw in place on a terminal; append when piped, so a log keeps every sample.
              if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
              println(`${text}\n\n${now.toISOString()}, every ${formatDuration(everyMs)}; Ctrl-C to stop.\n`);
            }
          };
          if (everyMs === null) {
            await show();
            return;
          }
          let stop: () => void = () => {};
          const stopped = new Promise<void>((resolve) => (stop = resolve));
          process.once('SIGINT', () => stop());
          process.once('SIGTERM', () => stop());
          let running = true;
          void stopped.then(() => (running = false));
          while (running) {
            await show();
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, Math.max(200, everyMs)))), stopped]);
            clearTimeout(timer);
          }
        });
      }),
    );
}
