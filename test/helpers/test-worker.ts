/**
 * A worker process for tests: exactly `conveyor work` (same config, signals, logging), with the test
 * task types registered next to the builtin ones. Run with `node --import tsx test/helpers/test-worker.ts`.
 */
import { runWork } from '../../src/cli/commands/work.ts';
import { delayTask } from '../../src/tasks/builtin/delay-task.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { testTasks } from './test-tasks.ts';

const registry = new TaskRegistry().register(delayTask, ...testTasks);

// Says when this process stalled (CPU starvation, a blocking call), which explains a lost lease.
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  if (now - last > 400) process.stderr.write(`test worker ${process.pid}: event loop stalled ${Math.round(now - last - 100)} ms at ${new Date().toISOString()}\n`);
  last = now;
}, 100).unref();
try {
  process.exitCode = await runWork({ registry, processHandlers: true });
} catch (error) {
  process.stderr.write(`test worker: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
}
process.exit(process.exitCode);
