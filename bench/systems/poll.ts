import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` every `everyMs` until it is true (resolves true) or `timeoutMs` has passed (false).
 * The benchmark waits on the store's own state this way, never on a fixed sleep.
 */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs = 5): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() >= deadline) return false;
    await sleep(everyMs);
  }
}
