import type { JsonValue } from '../core/task.ts';

/** How an attempt ended, before it is written down. */
export type Outcome =
  | { kind: 'completed'; output: JsonValue | null }
  /** `breaker`: the failure says something about the type's dependency (not a bad payload). */
  | { kind: 'failed'; error: string; permanent: boolean; breaker: boolean; minDelayMs?: number }
  | { kind: 'cancelled'; reason: string }
  | { kind: 'released' }
  /** The handler put the task off (SnoozeTaskError): due again in `delayMs`, its attempt unspent. */
  | { kind: 'snoozed'; delayMs: number; reason: string }
  | { kind: 'lost' };
