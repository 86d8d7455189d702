import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import { validationError } from '../core/errors.ts';
import { isEmailAddress } from './builtin/email-address.ts';
import { describePayloadError, type PayloadProblem } from './payload-error-message.ts';

export type { PayloadProblem } from './payload-error-message.ts';

/** Checks one payload; null when it is valid, else the first problem, its field under `field`. */
export type PayloadCheck = (payload: unknown, field?: string) => PayloadProblem | null;

/**
 * The one payload validator of every process (API, CLI, client, worker, runTask): a single Ajv with
 * the same formats everywhere, so a schema the API accepts is a schema the worker can check. The
 * email format is Conveyor's own strict rule (a bare local@domain), the others are ajv-formats'.
 * `errorMessage` (a string) is a keyword a schema may carry to say in words what its pattern means.
 */
const ajv = new Ajv({
  // Unknown formats are errors at compile time (strict), unknown keywords (x-..., TypeBox's extras) are not.
  strictSchema: 'log',
  strictTypes: false,
  strictTuples: false,
  logger: { log() {}, warn() {}, error() {} },
  // Errors carry their schema (for `errorMessage`, enum values and anyOf branches).
  verbose: true,
  // Schemas with an $id are compiled again rather than kept, so two versions of one type never clash.
  addUsedSchema: false,
  allowUnionTypes: true,
});
const addFormats = formatsModule.default;
addFormats(ajv, { mode: 'full' });
ajv.addFormat('email', { type: 'string', validate: isEmailAddress });
// ajv-formats' "url" is deprecated; the WHATWG parser is what a handler would use.
ajv.addFormat('url', { type: 'string', validate: (value: string) => URL.canParse(value) });
ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });

/** Compiled checks by schema object (TypeBox definitions) and by JSON text (schemas read back from the database). */
const byObject = new WeakMap<object, PayloadCheck>();
const byJson = new Map<string, PayloadCheck>();
const MAX_JSON_ENTRIES = 500;

/**
 * The compiled check of a payload schema, cached. Throws a validation error on `schema` when the
 * schema itself cannot be compiled (an unknown format, a `$ref` to nowhere, a TypeBox type with no
 * JSON form such as Type.Date).
 */
export function payloadCheck(schema: unknown): PayloadCheck {
  if (schema === true || schema === undefined) return () => null;
  if (typeof schema !== 'object' || schema === null) throw validationError('payload schema', 'must be a JSON Schema object');
  const known = byObject.get(schema);
  if (known) return known;
  const json = JSON.stringify(schema);
  let check = byJson.get(json);
  if (!check) {
    check = compile(JSON.parse(json) as object);
    if (byJson.size >= MAX_JSON_ENTRIES) byJson.delete(byJson.keys().next().value!);
    byJson.set(json, check);
  }
  byObject.set(schema, check);
  return check;
}

/** Throws a ConveyorError (VALIDATION, `field` naming the offending input such as `payload.to`) when the payload does not match. */
export function assertPayload(schema: unknown, payload: unknown, field = 'payload'): void {
  const problem = payloadCheck(schema)(payload, field);
  if (problem) throw validationError(problem.field, problem.message, problem.details);
}

function compile(schema: object): PayloadCheck {
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    const message = (error as Error).message;
    const format = /unknown format "(.*)" ignored in schema at path "(.*)"/.exec(message);
    if (format) throw validationError('payload schema', `uses the unknown format "${format[1]}" (at ${format[2]}); known formats: ${Object.keys(ajv.formats).sort().join(', ')}`);
    throw validationError('payload schema', `cannot be checked: ${message}`);
  }
  return (payload, field = 'payload') => {
    if (validate(payload)) return null;
    return describePayloadError((validate.errors ?? []) as ErrorObject[], field);
  };
}
