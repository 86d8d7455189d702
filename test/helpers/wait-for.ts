/**
 * Polls `probe` until it returns something other than undefined/false, or fails after `timeoutMs`
 * with `message` (and the last value seen). Polling observable state with a deadline, never a sleep
 * that hopes the state is ready.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  options: { timeoutMs?: number; intervalMs?: number; message?: string | (() => string) } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    last = await probe();
    if (last !== undefined && last !== false && last !== null) return last as T;
    if (Date.now() >= deadline) {
      const message = typeof options.message === 'function' ? options.message() : (options.message ?? 'condition');
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
