/**
 * Why a handler's AbortSignal fired; it is the signal's `reason`, so a handler that rethrows it (or
 * inspects it) can tell a timeout from a cancellation. The executor decides the task's outcome from it.
 *
 *   timeout    the type's timeout passed: a failed attempt, retried by the task's strategy
 *   cancelled  someone cancelled the running task: it ends `cancelled`
 *   lease_lost the lease was taken away or could not be renewed: another attempt owns the task now,
 *              so this one reports nothing
 *   shutdown   the worker is stopping and the grace period is over: handed back without spending the attempt
 */
export type TaskAbortKind = 'timeout' | 'cancelled' | 'lease_lost' | 'shutdown';

export class TaskAbortedError extends Error {
  readonly kind: TaskAbortKind;

  constructor(kind: TaskAbortKind, message: string) {
    super(message);
    this.name = 'TaskAbortedError';
    this.kind = kind;
  }
}

export function abortKindOf(signal: AbortSignal): TaskAbortKind | null {
  if (!signal.aborted) return null;
  return signal.reason instanceof TaskAbortedError ? signal.reason.kind : 'shutdown';
}
