import { Type, type Static } from '@sinclair/typebox';
import { seesAllTasks } from '../../auth/roles.ts';
import { CronTimes } from '../../core/cron-times.ts';
import { validationError } from '../../core/errors.ts';
import { quotaFor, scheduleIntervalRefusal } from '../../core/quota.ts';
import { newSchedule, reviseSchedule, taskForFiring, taskRunNow, type NewSchedule, type ScheduleRecord, type ScheduleRevision } from '../../core/schedule.ts';
import type { UserRecord } from '../../store/engine.ts';
import { ApiError, notFound } from '../api-error.ts';
import type { ApiContext, App } from '../api-context.ts';
import { principalOf } from '../plugins/authenticate.ts';
import { Ok, errors } from '../schemas/common.ts';
import { CreateScheduleBody, ScheduleDeleteResult, ScheduleIdParams, ScheduleView, UpdateScheduleBody } from '../schemas/schedule-schemas.ts';
import { TaskDetail } from '../schemas/task-schemas.ts';
import { checkMetadata } from '../task-input.ts';
import { checkRecipientDomains, enforceCreationQuotas } from '../task-quota.ts';
import { scheduleView } from '../views/schedule-view.ts';
import { taskDetail } from '../views/task-view.ts';

/** Enough for any real use; a bound on how many tasks one account can have created on its behalf. */
const MAX_SCHEDULES_PER_USER = 100;

/**
 * Recurring schedules: each firing creates one task, owned by the schedule's owner. Users see and
 * manage their own; moderators and admins all. Anyone else's answers 404, as for tasks.
 */
export function scheduleRoutes(app: App, ctx: ApiContext): void {
  async function visibleSchedule(user: UserRecord, id: string): Promise<ScheduleRecord> {
    const schedule = await ctx.engine.scheduleGet({ id });
    if (!schedule || (!seesAllTasks(user.role) && schedule.createdBy !== user.id)) throw notFound('Schedule');
    return schedule;
  }

  /**
   * The owner's role limits what a schedule may be: how often it fires (400 naming `cron`) and, for an
   * email schedule, whom it writes to (422). Judged for the schedule's owner, who may not be the caller.
   */
  async function checkScheduleQuotas(owner: UserRecord, schedule: Pick<NewSchedule, 'id' | 'name' | 'cron' | 'timezone' | 'taskType' | 'template' | 'createdBy'>): Promise<void> {
    const limits = quotaFor(ctx.config.quotas, owner.role);
    const now = ctx.clock.now();
    const refusal = scheduleIntervalRefusal(limits, owner.role, CronTimes.parse(schedule.cron, schedule.timezone), now);
    if (refusal !== null) throw validationError('cron', refusal, { quota: 'schedule_min_interval_ms', limit: limits.scheduleMinIntervalMs, role: owner.role });
    checkRecipientDomains(limits, owner.role, [taskForFiring(schedule, now, now)], () => '');
  }
  const ownerOf = async (schedule: { createdBy: string | null }, caller: UserRecord): Promise<UserRecord | null> =>
    schedule.createdBy === null ? null : schedule.createdBy === caller.id ? caller : await ctx.engine.userGet({ id: schedule.createdBy });

  app.get('/schedules', {
    schema: {
      operationId: 'listSchedules',
      tags: ['schedules'],
      summary: 'List recurring schedules',
      description: 'Yours; every schedule for moderators and admins. Ordered by name.',
      response: { 200: Ok(Type.Array(Type.Ref('ScheduleView'))), ...errors(401) },
    },
  }, async (request) => {
    const { user } = principalOf(request);
    const schedules = await ctx.engine.scheduleList(seesAllTasks(user.role) ? {} : { createdBy: user.id });
    return { success: true as const, data: schedules.map(scheduleView) };
  });

  app.post('/schedules', {
    schema: {
      operationId: 'createSchedule',
      tags: ['schedules'],
      summary: 'Create a recurring schedule',
      description:
        'Each time the cron expression fires, a worker\'s scheduler creates one task from this template (due at once, owned by you). ' +
        'A run missed while no worker was up is made once when one is back; further missed runs are skipped. Names are unique among your schedules (409). ' +
        'Your role may limit how often a schedule fires (400 naming `cron`, quota schedule_min_interval_ms) and, for email, to whom (422). A firing while you are over a quota is skipped: ' +
        'the schedule shows it in `last_skipped_at` and `last_skip_reason`.',
      body: CreateScheduleBody,
      response: { 201: Ok(ScheduleView), ...errors(400, 401, 409, 413, 422) },
    },
  }, async (request, reply) => {
    const { user } = principalOf(request);
    const body = request.body;
    await ctx.taskTypes.validate(body.task_type, body.payload);
    checkMetadata(body.metadata, 'metadata');
    if ((await ctx.engine.scheduleList({ createdBy: user.id })).length >= MAX_SCHEDULES_PER_USER) {
      throw new ApiError('CONFLICT', `You have ${MAX_SCHEDULES_PER_USER} schedules, the most allowed; delete one first`);
    }
    // The required fields again, so that the types know they are there.
    const input = { ...fieldsOf(body), name: body.name, cron: body.cron, taskType: body.task_type, payload: body.payload, maxAttempts: body.max_attempts, createdBy: user.id };
    const schedule = newSchedule(input, ctx.clock.now());
    await checkScheduleQuotas(user, schedule);
    const created = await ctx.engine.scheduleInsert({ schedule });
    return reply.status(201).send({ success: true, data: scheduleView(created) });
  });

  app.get('/schedules/:id', {
    schema: { operationId: 'getSchedule', tags: ['schedules'], summary: 'One schedule, with its next five times', params: ScheduleIdParams, response: { 200: Ok(ScheduleView), ...errors(401, 404) } },
  }, async (request) => {
    const schedule = await visibleSchedule(principalOf(request).user, request.params.id);
    return { success: true as const, data: scheduleView(schedule) };
  });

  app.patch('/schedules/:id', {
    schema: {
      operationId: 'updateSchedule',
      tags: ['schedules'],
      summary: 'Change a schedule, or pause and resume it',
      description:
        'Send only what changes. `enabled: false` pauses it, `enabled: true` resumes it from now (runs missed while paused are not made). ' +
        'A new cron or time zone counts the next run again from now; any other change applies from the next run. `max_attempts: null` returns to the default.',
      params: ScheduleIdParams,
      body: UpdateScheduleBody,
      response: { 200: Ok(ScheduleView), ...errors(400, 401, 404, 409, 413, 422) },
    },
  }, async (request) => {
    const caller = principalOf(request).user;
    const current = await visibleSchedule(caller, request.params.id);
    const body = request.body;
    if (body.task_type !== undefined || body.payload !== undefined) {
      await ctx.taskTypes.validate(body.task_type ?? current.taskType, body.payload !== undefined ? body.payload : current.template.payload);
    }
    checkMetadata(body.metadata, 'metadata');
    const now = ctx.clock.now();
    const changes = reviseSchedule(current, fieldsOf(body), now);
    const owner = await ownerOf(current, caller);
    if (owner) await checkScheduleQuotas(owner, { ...current, ...changes });
    const updated = await ctx.engine.scheduleUpdate({ id: current.id, changes, now });
    if (!updated) throw notFound('Schedule');
    return { success: true as const, data: scheduleView(updated) };
  });

  app.delete('/schedules/:id', {
    schema: {
      operationId: 'deleteSchedule',
      tags: ['schedules'],
      summary: 'Delete a schedule',
      description: 'No more tasks are created; the tasks it already created stay as they are.',
      params: ScheduleIdParams,
      response: { 200: Ok(ScheduleDeleteResult), ...errors(401, 404) },
    },
  }, async (request) => {
    const schedule = await visibleSchedule(principalOf(request).user, request.params.id);
    if (!(await ctx.engine.scheduleDelete({ id: schedule.id }))) throw notFound('Schedule');
    return { success: true as const, data: { id: schedule.id, deleted: true as const } };
  });

  app.post('/schedules/:id/run', {
    schema: {
      operationId: 'runSchedule',
      tags: ['schedules'],
      summary: 'Create the schedule\'s task now',
      description:
        'One task from the template, due at once, whether or not the schedule is enabled; the schedule\'s own times do not move. ' +
        'It counts like any created task: against the schedule owner\'s quotas (429 QUOTA_EXCEEDED) and your task-creating requests per minute (429 RATE_LIMITED).',
      params: ScheduleIdParams,
      response: { 201: Ok(TaskDetail), ...errors(401, 404, 422, 429) },
    },
  }, async (request, reply) => {
    const caller = principalOf(request).user;
    const wait = ctx.taskCreateLimit.take(caller.id);
    if (wait > 0) throw new ApiError('RATE_LIMITED', 'Too many task creations; slow down', { retryAfterMs: wait });
    const schedule = await visibleSchedule(caller, request.params.id);
    const task = taskRunNow(schedule, ctx.clock.now());
    // The task is the owner's, so it counts against the owner's quotas (a moderator running a user's schedule spends the user's).
    const owner = await ownerOf(schedule, caller);
    if (owner) await enforceCreationQuotas(ctx, owner, [task]);
    const { task: created } = await ctx.engine.taskInsert({ task });
    return reply.status(201).send({ success: true, data: taskDetail(created) });
  });
}

/** A request body's fields under the core's names (ScheduleRevision; ScheduleInput once its required ones are given). */
function fieldsOf(body: Static<typeof UpdateScheduleBody>): ScheduleRevision {
  return {
    name: body.name,
    cron: body.cron,
    timezone: body.timezone,
    taskType: body.task_type,
    payload: body.payload,
    priority: body.priority,
    maxAttempts: body.max_attempts,
    retryStrategy: body.retry_strategy,
    metadata: body.metadata,
    enabled: body.enabled,
  };
}
