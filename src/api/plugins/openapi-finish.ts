import { ERROR_RESPONSES } from '../schemas/error-responses.ts';
import { exampleOf } from './openapi-example.ts';

type Json = Record<string, unknown>;

const SCHEMAS = '#/components/schemas/';
const ERROR_ENVELOPE_REF = `${SCHEMAS}ErrorEnvelope`;
const SUCCESS_DESCRIPTIONS: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted: the work goes on after this answer' };
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

/**
 * The last pass over the generated document:
 * - a shared schema (TaskDetail, ...) that a route embedded whole becomes a $ref to it, so clients
 *   get one named type;
 * - every error answer refers to one shared response (components/responses/NotFound ...) with the
 *   envelope and an example, and every operation gets `default` for the errors any route can give;
 * - every JSON response without an example gets one, composed from the schemas' examples.
 */
export function finishDocument(doc: Json): Json {
  const components = (doc.components ?? {}) as Json;
  const schemas = (components.schemas ?? {}) as Record<string, Json>;
  const byShape = new Map(Object.entries(schemas).map(([name, schema]) => [JSON.stringify(schema), name]));
  const responses: Record<string, Json> = {};

  for (const pathItem of Object.values((doc.paths ?? {}) as Record<string, Json>)) {
    for (const method of METHODS) {
      const operation = pathItem[method] as Json | undefined;
      if (!operation) continue;
      hoistShared(operation, byShape);
      const answers = (operation.responses ?? {}) as Record<string, Json>;
      for (const [status, answer] of Object.entries(answers)) {
        // A status without a shared response stays as the route declared it (the lint test then names it).
        if (isErrorEnvelope(answer) && ERROR_RESPONSES[status]) answers[status] = errorResponse(status, responses);
      }
      answers.default = errorResponse('default', responses);
      operation.responses = answers;
      for (const [status, answer] of Object.entries(answers)) {
        if (!status.startsWith('2')) continue;
        if (answer.description === 'Default Response') answer.description = SUCCESS_DESCRIPTIONS[status] ?? 'Success';
        addExample(answer, schemas);
      }
      const body = operation.requestBody as Json | undefined;
      if (body) addExample(body, schemas);
    }
  }
  doc.components = { ...components, responses: sortKeys(responses) };
  return doc;
}

/** Replaces every embedded copy of a shared schema (the same JSON) with a $ref to it. */
function hoistShared(node: unknown, byShape: Map<string, string>): void {
  if (Array.isArray(node)) {
    node.forEach((item, index) => {
      const name = typeof item === 'object' && item !== null ? byShape.get(JSON.stringify(item)) : undefined;
      if (name) node[index] = { $ref: SCHEMAS + name };
      else hoistShared(item, byShape);
    });
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const record = node as Json;
  for (const [key, value] of Object.entries(record)) {
    if (typeof value !== 'object' || value === null) continue;
    const name = key === 'examples' || key === 'example' ? undefined : byShape.get(JSON.stringify(value));
    if (name) record[key] = { $ref: SCHEMAS + name };
    else hoistShared(value, byShape);
  }
}

function isErrorEnvelope(answer: Json): boolean {
  const content = answer.content as Record<string, { schema?: Json }> | undefined;
  return content?.['application/json']?.schema?.$ref === ERROR_ENVELOPE_REF;
}

function errorResponse(status: string, used: Record<string, Json>): Json {
  const doc = ERROR_RESPONSES[status]!;
  const error: Json = { code: doc.code, message: doc.message };
  if (doc.field !== undefined) error.field = doc.field;
  used[doc.name] = {
    description: doc.description,
    content: { 'application/json': { schema: { $ref: ERROR_ENVELOPE_REF }, example: { success: false, error } } },
  };
  return { $ref: `#/components/responses/${doc.name}` };
}

function addExample(holder: Json, schemas: Record<string, Json>): void {
  const media = (holder.content as Record<string, Json> | undefined)?.['application/json'];
  if (!media || media.example !== undefined || media.examples !== undefined) return;
  // A file sent as it is (a report download) has no example worth making up.
  if ((media.schema as Json | undefined)?.format === 'binary') return;
  const example = exampleOf(media.schema as Json | undefined, schemas);
  if (example !== undefined) media.example = example;
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
