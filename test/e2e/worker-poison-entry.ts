/**
 * A worker process for worker-poison-tasks.test.ts: exactly `conveyor work` (runWork: config from the
 * environment, signals, logging), with delay_task and the thread-isolated poison task types of
 * test/unit/worker-thread-tasks.ts. Run with `node --import tsx`.
 */
import { runWork } from '../../src/cli/commands/work.ts';
import { delayTask } from '../../src/tasks/builtin/delay-task.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { threadTasks } from '../unit/worker-thread-tasks.ts';

const registry = new TaskRegistry().register(delayTask, ...threadTasks);
process.exitCode = await runWork({ registry, processHandlers: true });
process.exit(process.exitCode);
