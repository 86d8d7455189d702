import type { Command } from 'commander';
import { systemClock } from '../../core/clock.ts';
import { isWorkerLive, workerView } from '../../api/views/worker-view.ts';
import { withEngine } from '../cli-engine.ts';
import { cliAction } from '../cli-error.ts';
import { loadConfig } from '../config.ts';
import { formatAgo, formatTable, printJsonList, println } from '../output.ts';

/** `conveyor workers`: every worker that sent a heartbeat, live or stopped. */
export function registerWorkersCommand(program: Command): void {
  program
    .command('workers')
    .description('Workers and their heartbeats: which run, what they take, how busy they are')
    .option('--json', 'print JSON: {items, total, next_cursor}, each item in the API\'s /workers shape')
    .action(
      cliAction(async (options: { json?: boolean }) => {
        const config = loadConfig();
        const liveMs = config.server.worker_live_ms;
        await withEngine(config, async (engine) => {
          const now = systemClock.now();
          const workers = (await engine.workerList()).sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
          if (options.json) {
            printJsonList(workers.map((w) => workerView(w, now, liveMs)));
            return;
          }
          if (workers.length === 0) {
            println('No worker has sent a heartbeat. Start one: conveyor work (or ./scripts/worker.sh).');
            return;
          }
          println(
            formatTable(
              [{ header: 'ID' }, { header: 'STATE' }, { header: 'HOST' }, { header: 'PID', right: true }, { header: 'BUSY', right: true }, { header: 'TASK TYPES', max: 50 }, { header: 'STARTED' }, { header: 'HEARTBEAT' }],
              workers.map((w) => [
                w.id,
                isWorkerLive(w, now, liveMs) ? 'live' : 'stopped',
                w.host,
                w.pid,
                `${w.running}/${w.concurrency}`,
                w.taskTypes.join(','),
                formatAgo(w.startedAt, now),
                formatAgo(w.lastHeartbeatAt, now),
              ]),
            ),
          );
          const live = workers.filter((w) => isWorkerLive(w, now, liveMs)).length;
          println();
          println(`${live} live, ${workers.length - live} stopped (no heartbeat for ${Math.round(liveMs / 1000)} s; conveyor doctor says more).`);
        });
      }),
    );
}
