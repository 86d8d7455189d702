import type { FastifyError, FastifySchemaValidationError } from 'fastify';
import { Uuid } from './schemas/common.ts';
import { IdPrefix } from './schemas/task-schemas.ts';

/** Patterns said in words: ajv would quote the regular expression. */
const PATTERN_MESSAGES: ReadonlyMap<string | undefined, string> = new Map([
  [Uuid.pattern, 'must be a UUID'],
  [IdPrefix.pattern, 'must be 1-36 hex digits and dashes (the start of a task id)'],
]);

/**
 * Reads Fastify's (ajv's) validation error into the field at fault, as a dotted path the client
 * sent (`payload.to`, `tasks[3].priority`, `limit`), and a message that names it.
 */
export function validationFailure(error: FastifyError): { field: string; message: string; details?: Record<string, unknown> } {
  const first = error.validation?.[0] as (FastifySchemaValidationError & { params?: Record<string, unknown> }) | undefined;
  const context = (error as { validationContext?: string }).validationContext ?? 'body';
  if (!first) return { field: context, message: error.message };
  const params = first.params ?? {};
  let path = pointerToPath(first.instancePath ?? '');
  if (first.keyword === 'required' && typeof params.missingProperty === 'string') path = join(path, params.missingProperty);
  if (first.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    const field = join(path, params.additionalProperty) || context;
    return { field, message: `${field} is not a known field` };
  }
  const field = path || (context === 'body' ? 'body' : context);
  let message: string;
  if (first.keyword === 'required') message = `${field} is required`;
  else if (first.keyword === 'pattern' && PATTERN_MESSAGES.has(params.pattern as string)) message = `${field} ${PATTERN_MESSAGES.get(params.pattern as string)}`;
  else if (first.keyword === 'enum' && Array.isArray(params.allowedValues)) message = `${field} must be one of ${params.allowedValues.join(', ')}`;
  else message = `${field} ${first.message ?? 'is invalid'}`;
  return Array.isArray(params.allowedValues) ? { field, message, details: { allowed: params.allowedValues } } : { field, message };
}

/** `/tasks/3/payload` -> `tasks[3].payload` */
function pointerToPath(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path = /^\d+$/.test(part) ? `${path}[${part}]` : join(path, part);
  }
  return path;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
