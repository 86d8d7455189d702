import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, test } from 'vitest';
import { compilePayloadSchema } from '../../src/api/json-schema-check.ts';
import { createBuiltinTasks } from '../../src/tasks/builtin/builtin-tasks.ts';

/** The API checks payloads against schemas read back from the database as plain JSON. */
describe('payload schemas stored as JSON', () => {
  test('objects, required and extra properties, nested arrays, numbers, enums, unions, formats', () => {
    const check = compilePayloadSchema({
      type: 'object',
      required: ['kind', 'items'],
      additionalProperties: false,
      properties: {
        kind: { enum: ['a', 'b'] },
        items: { type: 'array', maxItems: 2, items: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] } },
        when: { type: 'string', format: 'date-time' },
        who: { anyOf: [{ type: 'string', format: 'email' }, { type: 'null' }] },
        code: { type: ['string', 'integer'], pattern: '^[A-Z]+$' },
        fixed: { const: 7 },
      },
    });
    expect(check({ kind: 'a', items: [{ n: 1 }], when: '2026-01-01T00:00:00Z', who: null, code: 'AB', fixed: 7 })).toEqual({ ok: true });
    expect(check({ kind: 'a', items: [], who: 'x@example.com', code: 5 })).toEqual({ ok: true });
    const failures: [unknown, string][] = [
      [{ items: [] }, '/kind'],
      [{ kind: 'c', items: [] }, '/kind'],
      [{ kind: 'a', items: [{ n: 0 }] }, '/items/0/n'],
      [{ kind: 'a', items: [{ n: 1 }, { n: 1 }, { n: 1 }] }, '/items'],
      [{ kind: 'a', items: [], when: 'yesterday' }, '/when'],
      [{ kind: 'a', items: [], who: 'nobody' }, '/who'],
      [{ kind: 'a', items: [], code: 'ab' }, '/code'],
      [{ kind: 'a', items: [], fixed: 8 }, '/fixed'],
      [{ kind: 'a', items: [], extra: true }, '/extra'],
    ];
    for (const [value, path] of failures) {
      const result = check(value);
      expect(result.ok, JSON.stringify(value)).toBe(false);
      if (!result.ok) expect(result.path, JSON.stringify(value)).toBe(path);
    }
  });

  test('a schema with keywords it cannot express accepts rather than refuses (the worker checks again)', () => {
    expect(compilePayloadSchema({ $ref: '#/definitions/x' })({ anything: 1 })).toEqual({ ok: true });
    expect(compilePayloadSchema(true)(5)).toEqual({ ok: true });
    expect(compilePayloadSchema({ type: 'object', required: ['x'] })({}).ok).toBe(false);
  });

  test('every builtin task type\'s schema, read back as JSON, judges like the original', () => {
    const definitions = createBuiltinTasks({
      dataDir: '/tmp/conveyor-schema-test',
      email: { from: 'conveyor@example.com', outboxDir: '' },
      webhook: { secret: '', allowHosts: [], timeoutMs: 1000 },
      fileCleanup: { roots: [] },
      reports: { artifactsDir: '', sources: [] },
    });
    const samples: unknown[] = [
      {}, null, 'text',
      { to: 'a@example.com', subject: 'Hi', body: 'Hello' },
      { to: 'a@example.com', subject: 'Hi\r\nBcc: x@example.com', body: 'Hello' },
      { url: 'https://api.example.com/notify', method: 'POST', payload: { event: 'user_created' } },
      { url: 'https://api.example.com/notify', method: 'TRACE' },
      { operation: 'sum', data: [1, 2, 3] },
      { operation: 'explode', data: [1] },
      { file_path: '/tmp/uploads', max_age_hours: 24 },
      { report_type: 'sales', start_date: '2024-01-01', end_date: '2024-01-31' },
      { report_type: 'sales', start_date: '2024-13-01', end_date: '2024-01-31' },
    ];
    for (const definition of definitions) {
      const stored = compilePayloadSchema(JSON.parse(JSON.stringify(definition.payload)));
      const original = TypeCompiler.Compile(definition.payload);
      for (const example of definition.examples ?? []) expect(stored(example).ok, `${definition.name} example`).toBe(true);
      for (const sample of samples) expect(stored(sample).ok, `${definition.name} ${JSON.stringify(sample)}`).toBe(original.Check(sample));
    }
  });
});
