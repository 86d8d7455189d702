import { UserProfile } from './auth-schemas.ts';
import { ErrorEnvelope } from './common.ts';
import { BreakerView, WorkerView } from './monitoring-schemas.ts';
import { ScheduleView } from './schedule-schemas.ts';
import { TaskDetail, TaskStatsView, TaskSummary, TaskTypeView } from './task-schemas.ts';

/**
 * The schemas with an `$id`, registered once with Fastify (app.addSchema). The OpenAPI document names
 * them under components/schemas and refers to them, so generated clients get one named type for each.
 */
export const SHARED_SCHEMAS = [ErrorEnvelope, TaskSummary, TaskDetail, TaskStatsView, TaskTypeView, ScheduleView, UserProfile, WorkerView, BreakerView];
