import { ConveyorError } from '../core/errors.ts';
import { newTask, type NewTask, type TaskInput } from '../core/new-task.ts';
import type { Engine } from '../store/engine.ts';

/** The snake_case fields a task line may have, as in the HTTP API's POST /tasks body. */
const TASK_FIELDS = ['task_type', 'payload', 'priority', 'scheduled_at', 'max_attempts', 'retry_strategy', 'metadata', 'idempotency_key'] as const;

export interface ImportProblem {
  line: number;
  /** The offending field (`payload.to`), when known. */
  field: string | null;
  message: string;
}

export interface ImportResult {
  /** Lines that held a task (blank lines do not count). */
  lines: number;
  enqueued: number;
  /** Lines whose idempotency key matched an existing task, which was left as it was. */
  duplicates: number;
  rejected: ImportProblem[];
  tasks: { line: number; id: string; created: boolean }[];
}

export interface ImportOptions {
  engine: Engine;
  lines: AsyncIterable<string>;
  /** When given, every line is a payload of this type; otherwise every line is a task object with task_type. */
  taskType?: string | undefined;
  /** Checks the type and payload (the API's catalogue); throws a validation error naming the field. */
  validate?: (taskType: string, payload: unknown) => Promise<void>;
  batchSize: number;
  now: () => Date;
  /** Called after each line is read, blank ones included (for a progress bar). */
  onLine?: (result: ImportResult) => void;
}

/** A line as a TaskInput, or a problem. */
export function parseTaskLine(text: string, taskType: string | undefined): TaskInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ImportLineError(null, `not valid JSON (${(error as Error).message})`);
  }
  if (taskType !== undefined) return { taskType, payload: value };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ImportLineError(null, 'must be a JSON object with task_type and payload (or give the task type on the command line to read payloads)');
  }
  const body = value as Record<string, unknown>;
  const unknown = Object.keys(body).filter((key) => !(TASK_FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) throw new ImportLineError(unknown[0]!, `is not a task field; fields are ${TASK_FIELDS.join(', ')}`);
  if (typeof body.task_type !== 'string') throw new ImportLineError('task_type', 'is required (a string)');
  return {
    taskType: body.task_type,
    payload: body.payload,
    priority: body.priority as TaskInput['priority'],
    scheduledAt: body.scheduled_at as TaskInput['scheduledAt'],
    maxAttempts: body.max_attempts as number | undefined,
    retryStrategy: body.retry_strategy,
    metadata: body.metadata,
    idempotencyKey: body.idempotency_key as string | undefined,
  };
}

class ImportLineError extends Error {
  readonly field: string | null;

  constructor(field: string | null, message: string) {
    super(message);
    this.field = field;
  }
}

/**
 * Reads tasks line by line, validates each on its own (a bad line is reported with its number and
 * the good ones still go in), and inserts the good ones in batches with taskInsertMany, one
 * transaction per batch. Memory stays flat however long the file is.
 */
export async function importTasks(options: ImportOptions): Promise<ImportResult> {
  const result: ImportResult = { lines: 0, enqueued: 0, duplicates: 0, rejected: [], tasks: [] };
  let batch: { line: number; task: NewTask }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const inserted = await options.engine.taskInsertMany({ tasks: batch.map((b) => b.task) });
    inserted.forEach((r, i) => {
      result.tasks.push({ line: batch[i]!.line, id: r.task.id, created: r.created });
      if (r.created) result.enqueued += 1;
      else result.duplicates += 1;
    });
    batch = [];
  };
  let lineNumber = 0;
  for await (const raw of options.lines) {
    lineNumber += 1;
    const text = raw.trim();
    if (text === '') {
      options.onLine?.(result);
      continue;
    }
    result.lines += 1;
    try {
      const input = parseTaskLine(text, options.taskType);
      const task = newTask(input, options.now());
      if (options.validate) await options.validate(task.taskType, task.payload);
      batch.push({ line: lineNumber, task });
    } catch (error) {
      if (error instanceof ImportLineError) result.rejected.push({ line: lineNumber, field: error.field, message: error.field ? `${error.field}: ${error.message}` : error.message });
      else if (error instanceof ConveyorError) result.rejected.push({ line: lineNumber, field: error.field ?? null, message: error.message });
      else throw error;
    }
    if (batch.length >= options.batchSize) await flush();
    options.onLine?.(result);
  }
  await flush();
  return result;
}
