import { Type, type TSchema, type TUnsafe } from '@sinclair/typebox';

/** A string enum as JSON Schema `enum` (ajv then reports the allowed values, unlike anyOf of consts). */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string; default?: T[number] } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const DateTime = Type.String({ format: 'date-time', description: 'RFC 3339, UTC', examples: ['2026-01-01T12:00:00.000Z'] });
export const NullableDateTime = Nullable(DateTime);
export const Uuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', description: 'UUID', examples: ['0f8fad5b-d9cb-469f-a165-70867728950e'] });
/** Any JSON value, serialised as-is. */
export const AnyJson = Type.Unknown();

/** The success envelope around a route's data. */
export function Ok<T extends TSchema>(data: T) {
  return Type.Object({ success: Type.Literal(true), data });
}

/** The success envelope of a paged list: the items in `data`, the paging beside them. */
export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    success: Type.Literal(true),
    data: Type.Array(item),
    pagination: Type.Object({
      limit: Type.Integer(),
      next_cursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last page' })),
      total: Nullable(Type.Integer({ description: 'Every match, across all pages, counted up to 10,000; see total_is_exact' })),
      total_is_exact: Type.Boolean({ description: 'false when more than 10,000 match: `total` is then 10,000, a lower bound (show "10,000+"). Counting stops there so that a list costs the same at any history size' }),
    }),
  });
}

export const ErrorEnvelope = Type.Object(
  {
    success: Type.Literal(false),
    error: Type.Object({
      code: Type.String({ description: 'Stable code: VALIDATION_FAILED, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, INVALID_STATE, CONFLICT, PAYLOAD_TOO_LARGE, RATE_LIMITED, ...' }),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'The offending input, as a dotted path (payload.to)' })),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  { $id: 'ErrorEnvelope' },
);

export const Message = Type.Object({ message: Type.String() }, { examples: [{ message: 'Logged out successfully' }] });

/** The error answers every route may give, for the OpenAPI document. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, Type.Ref('ErrorEnvelope')]));
}
