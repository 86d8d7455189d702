import { ConveyorError, ERROR_CODES, validationError } from '../../core/errors.ts';
import { isUuid } from '../../core/id.ts';
import { assertJson } from '../../core/json.ts';
import type { NewTask } from '../../core/new-task.ts';
import type { EngineDriver } from '../engine.ts';
import { assertListLimit, assertMaxRunning, assertUserRef, assertUuid } from '../shared/input-rules.ts';
import { emptyTaskStats } from '../shared/task-stats.ts';

/** What a guard decided: answer the call itself (`{ answer }`), or let the engine run it (undefined). */
export type GuardResult = { answer: unknown } | undefined | void;

type Params<M extends keyof EngineDriver> = EngineDriver[M] extends (p: infer P) => unknown ? P : never;
type Guards = { [M in keyof EngineDriver]?: (p: Params<M>) => GuardResult };

/**
 * The input rules of every engine call, in one place so that both engines refuse the same input with
 * the same error (a ConveyorError CONVEYOR_VALIDATION naming the field) and answer the same way for an
 * id that cannot exist (every id is a UUID: a malformed one names nothing, it is not a database error).
 * A guard throws, answers, or lets the call through.
 */
export const CALL_GUARDS: Guards = {
  taskInsert: (p) => checkOwners([p.task], false),
  taskInsertMany: (p) => checkOwners(p.tasks, true),
  taskList: (p) => {
    assertListLimit(p.limit);
    return p.createdBy !== undefined && !isUuid(p.createdBy) ? { answer: { tasks: [], nextCursor: null, total: p.withTotal === true ? 0 : null, totalIsExact: true } } : undefined;
  },
  taskGet: (p) => (isUuid(p.id) ? undefined : { answer: null }),
  taskCancel: (p) => (isUuid(p.id) ? undefined : { answer: { outcome: 'not_found', task: null } }),
  taskRetry: (p) => (isUuid(p.id) ? undefined : { answer: { outcome: 'not_found', task: null } }),
  taskDelete: (p) => (isUuid(p.id) ? undefined : { answer: 'not_found' }),
  taskStats: (p) => (p.createdBy !== undefined && !isUuid(p.createdBy) ? { answer: emptyTaskStats() } : undefined),

  taskClaim: (p) => {
    if (p.fairShare !== undefined && !(p.fairShare > 0 && p.fairShare <= 1)) throw validationError('fair_share', 'must be a number above 0 and at most 1');
    return undefined;
  },

  // A lease on an id that is no UUID is held by nobody.
  taskComplete: (p) => {
    if (p.output !== null && p.output !== undefined) assertJson(p.output, 'output');
    return isUuid(p.lease.id) ? undefined : { answer: false };
  },
  taskProgress: (p) => {
    if (p.progress !== null && p.progress !== undefined) assertJson(p.progress, 'progress');
    return isUuid(p.lease.id) ? undefined : { answer: false };
  },
  taskFail: (p) => (isUuid(p.lease.id) ? undefined : { answer: { applied: false } }),
  taskCancelRunning: (p) => (isUuid(p.lease.id) ? undefined : { answer: false }),
  taskRelease: (p) => (isUuid(p.lease.id) ? undefined : { answer: false }),
  taskStartRecord: (p) => (p.starts.length === 0 ? { answer: [] } : undefined),

  typePause: (p) => assertUserRef('paused_by', p.pausedBy),
  typeLimitSet: (p) => {
    if (p.maxRunning !== null) assertMaxRunning(p.maxRunning);
    assertUserRef('updated_by', p.by);
    return undefined;
  },

  scheduleInsert: (p) => assertUserRef('created_by', p.schedule.createdBy),
  scheduleGet: (p) => (isUuid(p.id) ? undefined : { answer: null }),
  scheduleList: (p) => (p.createdBy !== undefined && !isUuid(p.createdBy) ? { answer: [] } : undefined),
  scheduleUpdate: (p) => (isUuid(p.id) ? undefined : { answer: null }),
  scheduleDelete: (p) => (isUuid(p.id) ? undefined : { answer: false }),
  scheduleSkip: (p) => (isUuid(p.id) ? undefined : { answer: false }),
  ownerUsage: (p) => assertUuid('ownerId', p.ownerId),
  emailRecipientsCount: (p) => {
    assertUuid('ownerId', p.ownerId);
    for (const [index, entry] of p.entries.entries()) {
      assertUuid(`entries[${index}].taskId`, entry.taskId);
      if (!Number.isInteger(entry.recipients) || entry.recipients < 0) throw validationError(`entries[${index}].recipients`, 'must be a whole number, 0 or more');
    }
    return undefined;
  },

  userInsert: (p) => assertUuid('id', p.user.id),
  userGet: (p) => (isUuid(p.id) ? undefined : { answer: null }),
  userUpdate: (p) => (isUuid(p.id) ? undefined : { answer: null }),
  sessionInsert: (p) => {
    if (!isUuid(p.session.userId)) throw new ConveyorError(ERROR_CODES.NOT_FOUND, 'userId: names no user', { field: 'userId' });
    return undefined;
  },
  sessionDeleteForUser: (p) => (isUuid(p.userId) ? undefined : { answer: 0 }),
  accountTokenInsert: (p) => {
    if (p.token.userId !== null && !isUuid(p.token.userId)) throw new ConveyorError(ERROR_CODES.NOT_FOUND, 'userId: names no user', { field: 'userId' });
    return assertUserRef('created_by', p.token.createdBy);
  },
  sessionLiveRoles: (p) => (p.tokenHashes.length === 0 ? { answer: [] } : undefined),
};

/** A task's owner is a user id; in a batch the field names the task's place. */
function checkOwners(tasks: readonly NewTask[], batch: boolean): undefined {
  for (let i = 0; i < tasks.length; i++) {
    const owner = tasks[i]!.createdBy;
    if (owner !== null && !isUuid(owner)) throw validationError(batch ? `tasks[${i}].created_by` : 'created_by', 'must be a user id');
  }
  return undefined;
}
