type Json = Record<string, unknown>;

const SCHEMAS = '#/components/schemas/';

/**
 * An example value for an OpenAPI 3.0 schema: its own `example` where it has one (the TypeBox
 * schemas' `examples`), else one composed from its parts; a plain stand-in for a bare string or
 * number. Composed values satisfy the schema, so `redocly lint` can check every example.
 */
export function exampleOf(schema: Json | undefined, schemas: Record<string, Json>, depth = 0): unknown {
  if (!schema || depth > 12) return undefined;
  if (schema.example !== undefined) return schema.example;
  if (typeof schema.$ref === 'string') return exampleOf(schemas[schema.$ref.slice(SCHEMAS.length)], schemas, depth + 1);
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) return exampleOf(options[0] as Json, schemas, depth + 1);
  }
  switch (schema.type) {
    case 'object': {
      const value: Json = {};
      for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, Json>)) {
        const item = exampleOf(property, schemas, depth + 1);
        if (item !== undefined) value[name] = item;
      }
      return value;
    }
    case 'array': {
      const item = exampleOf(schema.items as Json | undefined, schemas, depth + 1);
      return item === undefined ? [] : [item];
    }
    case 'string':
      if (schema.format === 'date-time') return '2026-01-01T12:00:00.000Z';
      if (schema.nullable === true) return null;
      return typeof schema.minLength === 'number' && schema.minLength > 6 ? 'x'.repeat(schema.minLength) : 'string';
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 0;
    case 'boolean':
      return false;
    default:
      // Any JSON (payload, output, progress).
      return schema.nullable === true || Object.keys(schema).length <= 1 ? null : {};
  }
}
