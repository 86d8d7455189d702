import type { ValueError } from '@sinclair/typebox/errors';

/**
 * The field path and message of a payload's first schema error, phrased for people: TypeBox says
 * "Expected union value" for an enum of literals, so the allowed values are listed instead.
 */
export function describeSchemaError(error: ValueError | undefined, field = 'payload'): { field: string; message: string } {
  const path = error?.path ? `${field}${error.path.replaceAll('/', '.')}` : field;
  if (!error) return { field: path, message: 'does not match the task type schema' };
  const choices = (error.schema as { anyOf?: { const?: unknown }[] }).anyOf;
  if (Array.isArray(choices) && choices.length > 0 && choices.every((choice) => choice.const !== undefined)) {
    return { field: path, message: `must be one of ${choices.map((choice) => String(choice.const)).join(', ')}` };
  }
  return { field: path, message: error.message };
}
