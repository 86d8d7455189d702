import type { Command } from 'commander';
import { systemClock } from '../../core/clock.ts';
import { TASK_TYPE_PATTERN } from '../../core/new-task.ts';
import { liveWorkerTaskTypes } from '../../api/views/worker-view.ts';
import { readyCount } from '../../core/task.ts';
import { typeHandling } from '../../core/type-handling.ts';
import { withEngine } from '../cli-engine.ts';
import { cliAction, CliError, EXIT } from '../cli-error.ts';
import { loadConfig } from '../config.ts';
import { formatAgo, formatTable, parseIntFlag, printJsonList, println } from '../output.ts';

/** `conveyor types`: the task types workers registered, and pausing or resuming one. */
export function registerTypesCommand(program: Command): void {
  const types = program.command('types').description('Task types: list them, pause and resume one (its tasks wait, spending nothing), or limit how many run at once');

  types
    .command('list', { isDefault: true })
    .description('Every registered task type (and any other with waiting tasks), whether it is paused, how many of its tasks wait, and how many live workers take it (the default)')
    .option('--json', 'print JSON: {items, total, next_cursor}')
    .action(
      cliAction(async (options: { json?: boolean }) => {
        const config = loadConfig();
        await withEngine(config, async (engine) => {
          const now = systemClock.now();
          const [registered, pauses, limits, stats, workers] = await Promise.all([
            engine.typeList(), engine.typePauseList(), engine.typeLimitList(), engine.taskStats({ now }), engine.workerList(),
          ]);
          const workerTypes = liveWorkerTaskTypes(workers, now, config.server.worker_live_ms);
          const pauseOf = new Map(pauses.map((p) => [p.taskType, p]));
          const limitOf = new Map(limits.map((l) => [l.taskType, l.maxRunning]));
          // A type paused or limited before any worker registered it is listed too, and so is one whose
          // tasks wait although no worker ever registered it (inserted by SQL or another version).
          const waitingTypes = Object.keys(stats.byType).filter((name) => readyCount(stats.byType[name] ?? {}) > 0);
          const names = [...new Set([...registered.map((t) => t.name), ...pauses.map((p) => p.taskType), ...limits.map((l) => l.taskType), ...waitingTypes])].sort();
          const rows = names.map((name) => ({
            name,
            pause: pauseOf.get(name) ?? null,
            limit: limitOf.get(name) ?? null,
            running: stats.byType[name]?.running ?? 0,
            lastSeenAt: registered.find((t) => t.name === name)?.lastSeenAt ?? null,
            waiting: readyCount(stats.byType[name] ?? {}),
            handling: typeHandling(name, workerTypes),
          }));
          if (options.json) {
            printJsonList(
              rows.map((r) => ({
                task_type: r.name,
                paused: r.pause !== null,
                paused_at: r.pause?.pausedAt.toISOString() ?? null,
                reason: r.pause?.reason ?? null,
                max_running: r.limit,
                running: r.running,
                waiting: r.waiting,
                live_workers: r.handling.liveWorkers,
                handling: r.handling.state,
                last_seen_at: r.lastSeenAt?.toISOString() ?? null,
              })),
            );
            return;
          }
          if (rows.length === 0) {
            println('No task type is registered yet: workers register theirs when they start (conveyor work).');
            return;
          }
          println(
            formatTable(
              [{ header: 'TASK TYPE', max: 32 }, { header: 'STATE' }, { header: 'RUNNING', right: true }, { header: 'LIMIT', right: true }, { header: 'WAITING', right: true }, { header: 'LIVE WORKERS', right: true }, { header: 'LAST WORKER SEEN' }, { header: 'PAUSED BECAUSE', max: 60 }],
              rows.map((r) => [r.name, r.pause ? `paused ${formatAgo(r.pause.pausedAt, now)}` : 'active', r.running, r.limit ?? '-', r.waiting, r.handling.liveWorkers, formatAgo(r.lastSeenAt, now), r.pause?.reason ?? '']),
            ),
          );
          // Named once below the table; with no live worker at all, every type waits and one line says so.
          const unhandled = rows.filter((r) => r.waiting > 0 && r.handling.state === 'unhandled').map((r) => `${r.name} (${r.waiting} waiting)`);
          if (unhandled.length > 0) println(`\nNo live worker takes: ${unhandled.join(', ')}. Start a worker with a handler for them, or cancel the tasks.`);
          else if (workerTypes.length === 0 && rows.some((r) => r.waiting > 0)) println('\nNo worker is live: waiting tasks start when one does.');
        });
      }),
    );

  types
    .command('pause')
    .description('Stop workers claiming this type until resumed; its tasks wait without spending attempts, running ones finish')
    .argument('<task_type>', 'e.g. webhook')
    .option('-r, --reason <text>', 'why, and until when: shown in the dashboard, the API and here')
    .action(
      cliAction(async (taskType: string, options: { reason?: string }) => {
        if (!TASK_TYPE_PATTERN.test(taskType)) throw new CliError(`"${taskType}" is not a task type name`, EXIT.USAGE);
        await withEngine(loadConfig(), async (engine) => {
          const known = (await engine.typeList()).some((t) => t.name === taskType);
          if (!known) println(`Note: no worker has registered ${taskType} yet; it is paused anyway, for when one does.`);
          const pause = await engine.typePause({ taskType, now: systemClock.now(), pausedBy: null, reason: options.reason ?? null });
          println(`Paused ${taskType} (since ${pause.pausedAt.toISOString()}${pause.reason ? `: ${pause.reason}` : ''}). Resume: conveyor types resume ${taskType}`);
        });
      }),
    );

  types
    .command('resume')
    .description('Let workers claim this type again; its waiting tasks run in their usual order')
    .argument('<task_type>', 'e.g. webhook')
    .action(
      cliAction(async (taskType: string) => {
        await withEngine(loadConfig(), async (engine) => {
          const resumed = await engine.typeResume({ taskType });
          println(resumed ? `Resumed ${taskType}.` : `${taskType} was not paused; nothing changed.`);
        });
      }),
    );

  types
    .command('limit')
    .description('At most this many tasks of the type run at once, across every worker ("none" removes the limit)')
    .argument('<task_type>', 'e.g. webhook')
    .argument('<max_running>', 'a whole number of at least 1, or none')
    .action(
      cliAction(async (taskType: string, maxRunning: string) => {
        if (!TASK_TYPE_PATTERN.test(taskType)) throw new CliError(`"${taskType}" is not a task type name`, EXIT.USAGE);
        const max = maxRunning === 'none' ? null : parseIntFlag(maxRunning, '<max_running>', 1, 100_000);
        await withEngine(loadConfig(), async (engine) => {
          await engine.typeLimitSet({ taskType, maxRunning: max, now: systemClock.now(), by: null });
          println(max === null ? `${taskType} has no concurrency limit.` : `At most ${max} ${taskType} task${max === 1 ? '' : 's'} will run at once, across every worker (within a second).`);
        });
      }),
    );
}
