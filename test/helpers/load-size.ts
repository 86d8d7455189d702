/**
 * How many tasks the drain tests run. The correctness suite uses 1,000: enough that every claimer
 * and process takes part many times over, so a task claimed twice, lost or run in two overlapping
 * attempts would show; `npm run test:load` runs the same tests with 10,000 (CONVEYOR_TEST_DRAIN_TASKS).
 * A multiple of 10 (the worker drain fails one task in ten once).
 */
export const DRAIN_TASKS = drainTasks(process.env.CONVEYOR_TEST_DRAIN_TASKS);

function drainTasks(setting: string | undefined): number {
  if (setting === undefined || setting === '') return 1_000;
  const n = Number(setting);
  if (!Number.isInteger(n) || n < 10 || n % 10 !== 0) throw new Error(`CONVEYOR_TEST_DRAIN_TASKS must be a whole multiple of 10 from 10 up, not ${JSON.stringify(setting)}`);
  return n;
}
