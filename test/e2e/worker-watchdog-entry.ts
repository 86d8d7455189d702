/**
 * A worker process for worker-event-loop-watchdog.test.ts: a Worker (library) with an inline task that
 * blocks its event loop forever, and the watchdog bound from CONVEYOR_TEST_MAX_BLOCK_MS. Prints
 * "ready" once claiming. Run with `node --import tsx`.
 */
import { Type } from '@sinclair/typebox';
import { createEngine } from '../helpers/create-engine.ts';
import { defineTask } from '../../src/tasks/define-task.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { Worker } from '../../src/worker/worker.ts';

const spin = defineTask({
  name: 'spin_inline',
  description: 'blocks the event loop forever (inline)',
  payload: Type.Object({}),
  async handler() {
    for (;;) {
      /* the loop never yields */
    }
  },
});

const engine = createEngine(process.env.CONVEYOR__DATABASE__URL!);
await engine.migrate();
const worker = new Worker({
  engine,
  registry: new TaskRegistry().register(spin),
  config: { worker: { poll_interval_ms: 100 } },
  eventLoopMaxBlockMs: Number(process.env.CONVEYOR_TEST_MAX_BLOCK_MS),
});
await worker.start();
process.stdout.write('ready\n');
