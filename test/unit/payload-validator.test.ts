import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, test } from 'vitest';
import { ConveyorError } from '../../src/core/errors.ts';
import { createBuiltinTasks } from '../../src/tasks/builtin/builtin-tasks.ts';
import { assertPayload, payloadCheck } from '../../src/tasks/payload-validator.ts';

const builtins = createBuiltinTasks({
  dataDir: '/tmp/conveyor-schema-test',
  email: { from: 'conveyor@example.com', outboxDir: '' },
  webhook: { secret: '', allowHosts: [], timeoutMs: 1000 },
  fileCleanup: { roots: [] },
  reports: { artifactsDir: '', sources: [] },
} as never);
const builtin = (name: string) => builtins.find((definition) => definition.name === name)!.payload;
/** The schema as the API and the client read it back from the database: plain JSON. */
const stored = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as object;

describe('the payload validator', () => {
  test('says what is wrong in the words docs/api.md uses, naming the field', () => {
    const email = payloadCheck(stored(builtin('email')));
    expect(email({ to: 'not-an-address', subject: 'Hi', body: 'Hello' })).toEqual({ field: 'payload.to', message: 'must be an email address' });
    expect(email({ to: ['a@example.com', 'nope'], subject: 'Hi', body: 'Hello' })).toEqual({ field: 'payload.to[1]', message: 'must be an email address' });
    expect(email({ to: 5, subject: 'Hi', body: 'Hello' })).toEqual({ field: 'payload.to', message: 'must be a string or an array' });
    expect(email({ subject: 'Hi', body: 'Hello' })).toEqual({ field: 'payload.to', message: 'is required' });
    expect(email({ to: 'a@example.com', subject: 'Hi', body: 'Hello', attachments: [] })).toEqual({ field: 'payload.attachments', message: 'is not a known field' });
    expect(email({ to: 'a@example.com', subject: 'Hi\r\nBcc: x@example.com', body: 'Hello' })).toEqual({ field: 'payload.subject', message: 'must be one line (no CR, LF or NUL)' });
    expect(email({ to: 'a@example.com', subject: 'x'.repeat(999), body: 'Hello' })).toEqual({ field: 'payload.subject', message: 'must be at most 998 characters' });

    const webhook = payloadCheck(builtin('webhook'));
    expect(webhook({ url: 'https://api.example.com/notify', method: 'TRACE', payload: {} })).toEqual({
      field: 'payload.method',
      message: 'must be one of: POST, PUT, PATCH, DELETE',
      details: { allowed: ['POST', 'PUT', 'PATCH', 'DELETE'] },
    });
    expect(webhook({ url: 'ftp://example.com/x', method: 'POST', payload: {} })).toEqual({ field: 'payload.url', message: 'must be an http or https URL' });
    expect(payloadCheck(builtin('data_processing'))({ operation: 'sum', data: [1, '2'] })).toEqual({ field: 'payload.data[1]', message: 'must be a number' });
  });

  test('user schemas: formats, lengths, bounds, enums, unions, under any field prefix', () => {
    const schema = Type.Object({
      to: Type.String({ format: 'email' }),
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 5 })),
      count: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
      when: Type.Optional(Type.String({ format: 'date-time' })),
      site: Type.Optional(Type.String({ format: 'uri' })),
      kind: Type.Optional(Type.Union([Type.Literal('a'), Type.Literal('b')])),
      note: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      tags: Type.Optional(Type.Array(Type.String(), { maxItems: 2, uniqueItems: true })),
      code: Type.Optional(Type.String({ pattern: '^[A-Z]+$' })),
    });
    const check = payloadCheck(schema);
    const ok = { to: 'ada@example.com' };
    expect(check(ok)).toBeNull();
    expect(check({ to: 'ada' })).toEqual({ field: 'payload.to', message: 'must be an email address' });
    expect(check({ ...ok, name: '' })).toEqual({ field: 'payload.name', message: 'must not be empty' });
    expect(check({ ...ok, name: 'Adelaide' })).toEqual({ field: 'payload.name', message: 'must be at most 5 characters' });
    expect(check({ ...ok, count: 0 })).toEqual({ field: 'payload.count', message: 'must be at least 1' });
    expect(check({ ...ok, count: 2.5 })).toEqual({ field: 'payload.count', message: 'must be an integer' });
    expect(check({ ...ok, count: 11 })).toEqual({ field: 'payload.count', message: 'must be at most 10' });
    expect(check({ ...ok, when: 'yesterday' })).toEqual({ field: 'payload.when', message: 'must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z' });
    expect(check({ ...ok, site: 'not a uri' })).toMatchObject({ field: 'payload.site', message: expect.stringMatching(/^must be a URI/) });
    expect(check({ ...ok, kind: 'c' })).toMatchObject({ field: 'payload.kind', message: 'must be one of: a, b' });
    expect(check({ ...ok, note: 5 })).toEqual({ field: 'payload.note', message: 'must be a string or null' });
    expect(check({ ...ok, tags: ['x', 'y', 'z'] })).toEqual({ field: 'payload.tags', message: 'must have at most 2 items' });
    expect(check({ ...ok, tags: ['x', 'x'] })).toMatchObject({ field: 'payload.tags', message: expect.stringMatching(/^must not repeat an item/) });
    expect(check({ ...ok, code: 'ab' })).toEqual({ field: 'payload.code', message: 'must match the pattern ^[A-Z]+$' });
    expect(check('text')).toEqual({ field: 'payload', message: 'must be an object' });
    expect(check({ to: 'ada' }, 'tasks[3].payload')).toEqual({ field: 'tasks[3].payload.to', message: 'must be an email address' });

    const error = (() => {
      try {
        assertPayload(schema, { to: 'ada' });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConveyorError);
    expect(error).toMatchObject({ code: 'CONVEYOR_VALIDATION', field: 'payload.to', message: 'payload.to: must be an email address' });
  });

  test('a schema read back from the database checks as its TypeBox original: every builtin type', () => {
    const samples: unknown[] = [
      {}, null, 'text',
      { to: 'a@example.com', subject: 'Hi', body: 'Hello' },
      { to: 'a@example.com', subject: 'Hi\r\nBcc: x@example.com', body: 'Hello' },
      { to: ['a@example.com', 'b@example.org'], subject: 'Hi', body: 'Hello', cc: 'c@example.com' },
      { url: 'https://api.example.com/notify', method: 'POST', payload: { event: 'user_created' } },
      { url: 'https://api.example.com/notify', method: 'POST', payload: {}, headers: { 'X-Ok': 'x\n' } },
      { url: 'https://api.example.com/notify', method: 'TRACE' },
      { operation: 'sum', data: [1, 2, 3] },
      { operation: 'explode', data: [1] },
      { file_path: '/tmp/uploads', max_age_hours: 24 },
      { file_path: './data', max_age_hours: 24 },
      { report_type: 'sales', start_date: '2024-01-01', end_date: '2024-01-31' },
      { report_type: 'sales', start_date: '2024-13-01x', end_date: '2024-01-31' },
      { delay_ms: 10, fail_attempts: 1 },
    ];
    for (const definition of builtins) {
      const fromJson = payloadCheck(stored(definition.payload));
      const original = TypeCompiler.Compile(definition.payload);
      for (const example of definition.examples ?? []) expect(fromJson(example), `${definition.name} example`).toBeNull();
      for (const sample of samples) expect(fromJson(sample) === null, `${definition.name} ${JSON.stringify(sample)}`).toBe(original.Check(sample));
    }
  });

  test('a schema it cannot check is refused when compiled, with the reason', () => {
    expect(() => payloadCheck(Type.Object({ phone: Type.String({ format: 'phone' }) }))).toThrow(/unknown format "phone".*known formats: .*email/);
    expect(() => payloadCheck({ $ref: '#/definitions/x' })).toThrow(/cannot be checked/);
    expect(payloadCheck(true)(5)).toBeNull();
  });
});
