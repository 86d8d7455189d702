/** Calls a maintenance task's `runOnce()` until it does nothing: how many calls, their sum, and the time. */
export async function untilDone(runOnce: () => Promise<number>): Promise<{ calls: number; total: number; seconds: number }> {
  const started = performance.now();
  let calls = 0;
  let total = 0;
  for (;;) {
    const done = await runOnce();
    calls += 1;
    total += done;
    if (done === 0) break;
  }
  return { calls, total, seconds: (performance.now() - started) / 1000 };
}
