import type { UserRecord } from '../engine.ts';
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
import { postgresCodec } from './postgres-codec.ts';

/** Rows of the smaller tables as pg returns them with PG_TYPES; the mapping itself is shared. */

export type BreakerRow = BreakerRowOf<Date>;
export type UserRow = UserRowOf<Date, boolean>;
export type SessionRow = SessionRowOf<Date>;
export type AccountTokenRow = AccountTokenRowOf<Date>;
export type TaskTypeRow = TaskTypeRowOf<Date, unknown>;
export type WorkerRow = WorkerRowOf<Date, unknown>;
export type ScheduleRow = ScheduleRowOf<Date, unknown, boolean>;
export type TypePauseRow = TypePauseRowOf<Date>;
export type TypeLimitRow = TypeLimitRowOf<Date>;

const records = recordMappers(postgresCodec);
export const breakerFromRow = records.breaker;
export const userFromRow = records.user;
export const sessionFromRow = records.session;
export const accountTokenFromRow = records.accountToken;
export const taskTypeFromRow = records.taskType;
export const workerFromRow = records.worker;
export const scheduleFromRow = records.schedule;
export const typePauseFromRow = records.typePause;
export const typeLimitFromRow = records.typeLimit;

/** A user's columns as sessionGet reads them beside the session's (`u_` + column). */
export type PrefixedUserRow = { [K in keyof UserRow as `u_${K}`]: UserRow[K] };

export function userFromPrefixedRow(row: PrefixedUserRow): UserRecord {
  return userFromRow({
    id: row.u_id,
    username: row.u_username,
    email: row.u_email,
    password_hash: row.u_password_hash,
    role: row.u_role,
    is_active: row.u_is_active,
    created_at: row.u_created_at,
    updated_at: row.u_updated_at,
    last_login_at: row.u_last_login_at,
  });
}
