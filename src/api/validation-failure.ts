import type { ErrorObject } from 'ajv';
import type { FastifyError } from 'fastify';
import { describePayloadError } from '../tasks/payload-error-message.ts';
import { Uuid } from './schemas/common.ts';
import { IdPrefix } from './schemas/task-schemas.ts';

/** Patterns said in words: ajv would quote the regular expression. */
const PATTERN_MESSAGES: ReadonlyMap<string | undefined, string> = new Map([
  [Uuid.pattern, 'must be a UUID'],
  [IdPrefix.pattern, 'must be 1-36 hex digits and dashes (the start of a task id)'],
]);

/**
 * Reads Fastify's (ajv's) validation error into the field at fault, as a dotted path the client
 * sent (`payload.to`, `tasks[3].priority`, `limit`), and a message that names it, in the same words
 * as a payload's errors (`priority: must be one of: critical, high, normal, low`).
 */
export function validationFailure(error: FastifyError): { field: string; message: string; details?: Record<string, unknown> } {
  const errors = (error.validation ?? []) as unknown as ErrorObject[];
  const context = (error as { validationContext?: string }).validationContext ?? 'body';
  const last = errors.at(-1);
  if (!last) return { field: context, message: error.message };
  const problem = describePayloadError(errors, '');
  const field = problem.field || context;
  const words = last.keyword === 'pattern' ? PATTERN_MESSAGES.get((last.params as { pattern?: string }).pattern) : undefined;
  const message = `${field}: ${words ?? problem.message}`;
  return problem.details ? { field, message, details: problem.details } : { field, message };
}
