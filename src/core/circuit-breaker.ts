/**
 * Circuit-breaker maths, one breaker per task type, or per type and scope for types whose tasks go
 * to independent destinations (a webhook's host: see breaker-scope.ts). The state lives in the database so that every
 * worker and the dashboard see the same breaker; this module only computes transitions.
 *
 * closed    --(failure_threshold consecutive failures)--> open
 * open      --(open_ms elapsed)-------------------------> half_open   (claims resume)
 * half_open --(success_threshold consecutive successes)-> closed
 * half_open --(any failure)-----------------------------> open
 *
 * While open, workers do not claim the type (or the type's tasks of that scope) at all, so its tasks
 * wait instead of spending attempts.
 */
export type BreakerStateName = 'closed' | 'open' | 'half_open';

export interface BreakerState {
  taskType: string;
  /** Null: the type's own breaker. Otherwise the part of the type it covers, e.g. the host `api.example.com`. */
  scope: string | null;
  state: BreakerStateName;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** When it last opened; null if it never has. */
  openedAt: Date | null;
  /** While open: when claims may resume (the half-open trial). */
  reopensAt: Date | null;
  updatedAt: Date;
}

export interface BreakerConfig {
  failureThreshold: number;
  successThreshold: number;
  openMs: number;
}

/** The guide's defaults: open after 5 consecutive failures, half-open after 60 s, close after 3 successes. */
export const DEFAULT_BREAKER_CONFIG: BreakerConfig = Object.freeze({ failureThreshold: 5, successThreshold: 3, openMs: 60_000 });

export function closedBreaker(taskType: string, now: Date, scope: string | null = null): BreakerState {
  return { taskType, scope, state: 'closed', consecutiveFailures: 0, consecutiveSuccesses: 0, openedAt: null, reopensAt: null, updatedAt: now };
}

/** The state as of `now`: an open breaker whose wait is over is half-open. */
export function breakerStateAt(breaker: BreakerState, now: Date): BreakerStateName {
  if (breaker.state === 'open' && breaker.reopensAt !== null && breaker.reopensAt.getTime() <= now.getTime()) return 'half_open';
  return breaker.state;
}

export type BreakerOutcome = 'success' | 'failure';

export function breakerRecord(breaker: BreakerState, outcome: BreakerOutcome, now: Date, config: BreakerConfig = DEFAULT_BREAKER_CONFIG): BreakerState {
  const state = breakerStateAt(breaker, now);
  if (outcome === 'failure') {
    const failures = breaker.consecutiveFailures + 1;
    // A failure in half-open proves the dependency is still down: open again at once.
    if (state === 'half_open' || (state === 'closed' && failures >= config.failureThreshold)) {
      return { ...breaker, state: 'open', consecutiveFailures: failures, consecutiveSuccesses: 0, openedAt: now, reopensAt: new Date(now.getTime() + config.openMs), updatedAt: now };
    }
    // Failures of attempts claimed before the breaker opened keep it open without extending the wait.
    return { ...breaker, state, consecutiveFailures: failures, consecutiveSuccesses: 0, updatedAt: now };
  }
  if (state === 'half_open') {
    const successes = breaker.consecutiveSuccesses + 1;
    if (successes >= config.successThreshold) {
      return { ...breaker, state: 'closed', consecutiveFailures: 0, consecutiveSuccesses: 0, reopensAt: null, updatedAt: now };
    }
    return { ...breaker, state: 'half_open', consecutiveFailures: 0, consecutiveSuccesses: successes, updatedAt: now };
  }
  // A success while open comes from an attempt claimed before it opened; it proves little, so the
  // breaker stays open for its full wait. While closed, a success resets the failure run.
  return { ...breaker, state, consecutiveFailures: 0, consecutiveSuccesses: state === 'open' ? breaker.consecutiveSuccesses : 0, updatedAt: now };
}
