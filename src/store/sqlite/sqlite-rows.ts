import type { BreakerState } from '../../core/circuit-breaker.ts';
import {
  type BreakerRowOf,
  recordMappers,
  type ScheduleRowOf,
  type AccountTokenRowOf,
  type SessionRowOf,
  type TaskTypeRowOf,
  type TypeLimitRowOf,
  type TypePauseRowOf,
  type UserRowOf,
  type WorkerRowOf,
} from '../shared/record-mappers.ts';
import { sqliteCodec } from './sqlite-codec.ts';

/** Rows of the tables other than `tasks` as better-sqlite3 returns them; the mapping itself is shared. */

export type BreakerRow = BreakerRowOf<number>;
export type TaskTypeRow = TaskTypeRowOf<number, string>;
export type WorkerRow = WorkerRowOf<number, string>;
export type UserRow = UserRowOf<number, number>;
export type SessionRow = SessionRowOf<number>;
export type AccountTokenRow = AccountTokenRowOf<number>;
export type ScheduleRow = ScheduleRowOf<number, string, number>;
export type TypePauseRow = TypePauseRowOf<number>;
export type TypeLimitRow = TypeLimitRowOf<number>;

const records = recordMappers(sqliteCodec);
export const rowToBreaker = records.breaker;
export const rowToTaskType = records.taskType;
export const rowToWorker = records.worker;
export const rowToUser = records.user;
export const rowToSession = records.session;
export const rowToAccountToken = records.accountToken;
export const rowToSchedule = records.schedule;
export const rowToTypePause = records.typePause;
export const rowToTypeLimit = records.typeLimit;

export function breakerParams(breaker: BreakerState): Record<string, string | number | null> {
  return {
    task_type: breaker.taskType,
    scope: breaker.scope ?? '',
    state: breaker.state,
    consecutive_failures: breaker.consecutiveFailures,
    consecutive_successes: breaker.consecutiveSuccesses,
    opened_at: breaker.openedAt?.getTime() ?? null,
    reopens_at: breaker.reopensAt?.getTime() ?? null,
    updated_at: breaker.updatedAt.getTime(),
  };
}
