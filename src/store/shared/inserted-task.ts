import { copyPlainJson } from '../../core/json.ts';
import type { NewTask } from '../../core/new-task.ts';
import type { JsonObject, JsonValue, TaskRecord } from '../../core/task.ts';

/**
 * The record of a task just inserted, built from what was written rather than read back: a batch of
 * thousands then costs no full-row read. Every column not given takes its table default, which is what
 * this reproduces. Payload, strategy and metadata are deep copies (and dates are copied), so the record
 * shares no object with the caller: changing one never changes the other. A plain value is copied
 * directly, several times cheaper than parsing its JSON text again, which a bulk insert of thousands
 * would pay per task; anything else is parsed from the text that was written.
 */
export function insertedTask(task: NewTask): TaskRecord {
  return {
    id: task.id,
    taskType: task.taskType,
    payload: copyPlainJson(task.payload) ?? (JSON.parse(task.payloadJson) as JsonValue),
    status: task.status,
    priority: task.priority,
    // A strategy is flat: a spread copies it whole.
    retryStrategy: { ...task.retryStrategy },
    maxAttempts: task.maxAttempts,
    currentAttempt: 0,
    lastError: null,
    output: null,
    metadata: task.metadataJson === '{}' ? {} : ((copyPlainJson(task.metadata) ?? JSON.parse(task.metadataJson)) as JsonObject),
    idempotencyKey: task.idempotencyKey,
    createdBy: task.createdBy,
    createdAt: new Date(task.createdAt.getTime()),
    updatedAt: new Date(task.createdAt.getTime()),
    scheduledAt: task.scheduledAt === null ? null : new Date(task.scheduledAt.getTime()),
    runAt: new Date(task.runAt.getTime()),
    startedAt: null,
    completedAt: null,
    workerId: null,
    leaseExpiresAt: null,
    cancelRequestedAt: null,
    rescueCount: 0,
    progress: null,
    attempts: [],
  };
}
