/**
 * A separate OS process that claims and completes tasks until none are left, then prints the ids it
 * completed as JSON. Used by processes.test.ts to prove claims are exclusive across processes.
 * Usage: node --import tsx claimer-process.ts <database-url> <worker-id>
 */
import { createEngine } from '../helpers/create-engine.ts';

const [url, workerId] = process.argv.slice(2);
if (!url || !workerId) throw new Error('usage: claimer-process.ts <database-url> <worker-id>');
const engine = createEngine(url);
const completed: string[] = [];
for (;;) {
  const now = new Date();
  const batch = await engine.taskClaim({ workerId, taskTypes: ['email'], limit: 10, now, leaseMs: 600_000 });
  if (batch.length === 0) break;
  for (const task of batch) {
    const ok = await engine.taskComplete({ lease: { id: task.id, attempt: task.currentAttempt, workerId }, output: { by: workerId }, now: new Date() });
    if (!ok) throw new Error(`completion of ${task.id} was refused`);
    completed.push(task.id);
  }
}
await engine.close();
process.stdout.write(JSON.stringify(completed));
