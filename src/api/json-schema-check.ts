import { FormatRegistry, Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describeSchemaError } from '../tasks/schema-error.ts';

export type PayloadCheck = (value: unknown) => { ok: true } | { ok: false; path: string; message: string };

/**
 * Compiles a task type's payload schema as stored in the database (plain JSON Schema: the TypeBox
 * type a worker registered, minus TypeBox's symbols) into a fast checker. TypeBox's compiler needs its
 * own type objects, so the JSON is rebuilt into them; keywords it cannot express are left unchecked
 * here (the worker checks the payload again with the original schema before it runs).
 */
export function compilePayloadSchema(schema: unknown): PayloadCheck {
  registerFormats();
  const check = TypeCompiler.Compile(fromJsonSchema(schema));
  return (value) => {
    if (check.Check(value)) return { ok: true };
    const first = check.Errors(value).First();
    return { ok: false, path: first?.path ?? '', message: describeSchemaError(first).message };
  };
}

type Json = Record<string, unknown>;

const PASSTHROUGH = [
  'title', 'description', 'default', 'minLength', 'maxLength', 'pattern', 'format', 'minimum', 'maximum', 'exclusiveMinimum',
  'exclusiveMaximum', 'multipleOf', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties',
] as const;

function fromJsonSchema(schema: unknown): TSchema {
  if (schema === false) return Type.Never();
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return Type.Unknown();
  const s = schema as Json;
  const options: Json = {};
  for (const key of PASSTHROUGH) if (s[key] !== undefined) options[key] = s[key];

  if (s.const !== undefined) return literal(s.const);
  if (Array.isArray(s.enum)) return Type.Union(s.enum.map(literal), options);
  if (Array.isArray(s.anyOf)) return Type.Union(s.anyOf.map(fromJsonSchema), options);
  if (Array.isArray(s.oneOf)) return Type.Union(s.oneOf.map(fromJsonSchema), options);
  if (Array.isArray(s.allOf)) return Type.Intersect(s.allOf.map(fromJsonSchema), options);
  if (Array.isArray(s.type)) return Type.Union(s.type.map((t) => fromJsonSchema({ ...s, type: t })), options);

  switch (s.type) {
    case 'object': {
      const properties = (s.properties ?? {}) as Json;
      const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
      const shape: Record<string, TSchema> = {};
      for (const [name, sub] of Object.entries(properties)) {
        shape[name] = required.has(name) ? fromJsonSchema(sub) : Type.Optional(fromJsonSchema(sub));
      }
      const extra = s.additionalProperties;
      if (extra === false) options.additionalProperties = false;
      else if (extra !== undefined && extra !== true) options.additionalProperties = fromJsonSchema(extra);
      // A required property the schema does not describe must still be present.
      for (const name of required) if (!(name in shape)) shape[name] = Type.Unknown();
      return Type.Object(shape, options);
    }
    case 'array':
      return Type.Array(fromJsonSchema(s.items), options);
    case 'string':
      return Type.String(options);
    case 'number':
      return Type.Number(options);
    case 'integer':
      return Type.Integer(options);
    case 'boolean':
      return Type.Boolean(options);
    case 'null':
      return Type.Null(options);
    default:
      return Type.Unknown(options);
  }
}

function literal(value: unknown): TSchema {
  if (value === null) return Type.Null();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return Type.Literal(value);
  return Type.Unknown();
}

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** TypeBox refuses values in formats it does not know; teach it the common ones (once, process-wide). */
function registerFormats(): void {
  const set = (name: string, check: (value: string) => boolean) => {
    if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);
  };
  set('email', (v) => EMAIL.test(v));
  set('date', (v) => DATE.test(v) && !Number.isNaN(Date.parse(v)));
  set('date-time', (v) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)));
  set('uuid', (v) => UUID.test(v));
  set('uri', (v) => URL.canParse(v));
  set('url', (v) => URL.canParse(v));
}
