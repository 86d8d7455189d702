import type { ErrorObject } from 'ajv';

/** What is wrong with a payload, for people: the field (`payload.to`, `payload.items[2].n`) and a message. */
export interface PayloadProblem {
  field: string;
  message: string;
  details?: Record<string, unknown>;
}

type Schema = Record<string, unknown>;

const FORMAT_MESSAGES: Record<string, string> = {
  email: 'must be an email address',
  url: 'must be a URL',
  uri: 'must be a URI such as https://example.com/path',
  'uri-reference': 'must be a URI reference',
  date: 'must be a date such as 2026-01-31',
  time: 'must be a time with its offset such as 12:00:00Z',
  'date-time': 'must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z',
  duration: 'must be an ISO 8601 duration such as P3D or PT15M',
  uuid: 'must be a UUID',
  hostname: 'must be a host name',
  ipv4: 'must be an IPv4 address',
  ipv6: 'must be an IPv6 address',
  regex: 'must be a regular expression',
  'json-pointer': 'must be a JSON pointer',
  byte: 'must be base64 text',
  int32: 'must be a 32-bit integer',
  int64: 'must be a 64-bit integer',
};

const OWN_MESSAGE_KEYWORDS = new Set(['pattern', 'format', 'anyOf', 'oneOf', 'not']);

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/**
 * Turns Ajv's errors (stopped at the first failure, so the last error is the failure and the ones
 * before it are the failed branches of an anyOf/oneOf) into one field and one sentence, phrased as
 * docs/api.md promises: "must be an email address", "is required", "must be one of: a, b".
 */
export function describePayloadError(errors: readonly ErrorObject[], field: string): PayloadProblem {
  const last = errors.at(-1);
  if (!last) return { field, message: 'does not match the task type\'s schema' };
  return describe(last, errors.slice(0, -1), field);
}

function describe(error: ErrorObject, before: readonly ErrorObject[], root: string): PayloadProblem {
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as Schema;
  const at = fieldPath(root, error.instancePath);
  const plural = (n: unknown, word: string) => `${String(n)} ${word}${n === 1 ? '' : 's'}`;
  // A schema's own words for what its pattern or format means (`errorMessage`), where it has them.
  const own = typeof parent.errorMessage === 'string' && OWN_MESSAGE_KEYWORDS.has(error.keyword) ? parent.errorMessage : undefined;

  switch (error.keyword) {
    case 'required':
      return { field: join(at, String(params.missingProperty)), message: 'is required' };
    case 'dependentRequired':
    case 'dependencies':
      return { field: join(at, String(params.missingProperty)), message: `is required when ${String(params.property)} is given` };
    case 'additionalProperties':
      return { field: join(at, String(params.additionalProperty)), message: 'is not a known field' };
    case 'anyOf':
    case 'oneOf':
      return own ? { field: at, message: own } : describeBranches(error, before, root, at);
  }
  if (own) return { field: at, message: own };
  switch (error.keyword) {
    case 'type':
      return { field: at, message: `must be ${typeWords(params.type)}` };
    case 'format':
      return { field: at, message: FORMAT_MESSAGES[String(params.format)] ?? `must be a valid ${String(params.format)}` };
    case 'enum':
      return oneOf(at, (params.allowedValues ?? parent.enum) as unknown[]);
    case 'const':
      return { field: at, message: `must be ${show(params.allowedValue)}` };
    case 'minLength':
      return { field: at, message: params.limit === 1 ? 'must not be empty' : `must be at least ${plural(params.limit, 'character')}` };
    case 'maxLength':
      return { field: at, message: `must be at most ${plural(params.limit, 'character')}` };
    case 'minimum':
      return { field: at, message: `must be at least ${String(params.limit)}` };
    case 'maximum':
      return { field: at, message: `must be at most ${String(params.limit)}` };
    case 'exclusiveMinimum':
      return { field: at, message: `must be greater than ${String(params.limit)}` };
    case 'exclusiveMaximum':
      return { field: at, message: `must be less than ${String(params.limit)}` };
    case 'multipleOf':
      return { field: at, message: `must be a multiple of ${String(params.multipleOf)}` };
    case 'minItems':
      return { field: at, message: params.limit === 1 ? 'must not be empty' : `must have at least ${plural(params.limit, 'item')}` };
    case 'maxItems':
      return { field: at, message: `must have at most ${plural(params.limit, 'item')}` };
    case 'uniqueItems':
      return { field: at, message: `must not repeat an item (items ${String(params.j)} and ${String(params.i)} are equal)` };
    case 'minProperties':
      return { field: at, message: `must have at least ${plural(params.limit, 'field')}` };
    case 'maxProperties':
      return { field: at, message: `must have at most ${plural(params.limit, 'field')}` };
    case 'pattern':
      // A regular expression means little to most readers: the schema's description says it in words.
      return typeof parent.description === 'string'
        ? { field: at, message: `is not in the expected form (${parent.description})` }
        : { field: at, message: `must match the pattern ${String(params.pattern)}` };
    case 'not':
      return { field: at, message: 'is not allowed here' };
    case 'false schema':
      return { field: at, message: 'is not allowed' };
    default:
      return { field: at, message: error.message ?? 'is invalid' };
  }
}

/**
 * A value that matched none of a union's branches. An enum written as a union of literals lists its
 * values; branches of the wrong type are set aside, and when one branch is left its own error is the
 * one to report (an address that is a string but not an email says so, rather than "not an array").
 */
function describeBranches(error: ErrorObject, before: readonly ErrorObject[], root: string, at: string): PayloadProblem {
  const branches = ((error.schema ?? []) as unknown[]).filter((branch): branch is Schema => typeof branch === 'object' && branch !== null);
  const values: unknown[] = [];
  if (branches.length > 0 && branches.every((branch) => 'const' in branch || Array.isArray(branch.enum))) {
    for (const branch of branches) values.push(...('const' in branch ? [branch.const] : (branch.enum as unknown[])));
    return oneOf(at, values);
  }
  const prefix = `${error.schemaPath}/`;
  const byBranch = new Map<number, ErrorObject[]>();
  for (const inner of before) {
    if (!inner.schemaPath.startsWith(prefix)) continue;
    const index = Number(inner.schemaPath.slice(prefix.length).split('/')[0]);
    byBranch.set(index, [...(byBranch.get(index) ?? []), inner]);
  }
  const fitting = [...byBranch.values()].filter(
    (errors) => !errors.some((inner) => inner.keyword === 'type' && inner.instancePath === error.instancePath && inner.schemaPath.split('/').length === prefix.split('/').length + 1),
  );
  if (fitting.length === 1) {
    const errors = fitting[0]!;
    return describe(errors.at(-1)!, errors.slice(0, -1), root);
  }
  const types = branches.map((branch) => branch.type).filter((type) => type !== undefined);
  if (fitting.length === 0 && branches.length > 0 && types.length === branches.length) return { field: at, message: `must be ${typeWords(types.flat())}` };
  return { field: at, message: 'does not match any of the forms this field allows' };
}

function oneOf(at: string, values: unknown[]): PayloadProblem {
  return { field: at, message: `must be one of: ${values.map((value) => (typeof value === 'string' ? value : show(value))).join(', ')}`, details: { allowed: values } };
}

function typeWords(type: unknown): string {
  const types = [...new Set((Array.isArray(type) ? type : [type]).map(String))];
  return types.map((name) => TYPE_WORDS[name] ?? name).join(' or ');
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** `/items/3/n` under `payload` -> `payload.items[3].n` */
function fieldPath(root: string, pointer: string): string {
  let path = root;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path = /^\d+$/.test(part) ? `${path}[${part}]` : join(path, part);
  }
  return path;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
