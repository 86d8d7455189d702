import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { defineTask } from '../../src/tasks/define-task.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';

const report = defineTask({
  name: 'report',
  description: 'test',
  payload: Type.Object({ kind: Type.Union([Type.Literal('sales'), Type.Literal('usage')]), days: Type.Integer({ minimum: 1 }) }),
  handler: async () => {},
});

describe('task registry', () => {
  const registry = new TaskRegistry().register(report);

  it('names the offending field, listing the allowed values of an enum', () => {
    expect(() => registry.validatePayload('report', { kind: 'weather', days: 2 })).toThrow('payload.kind: must be one of: sales, usage');
    expect(() => registry.validatePayload('report', { kind: 'sales', days: 0 })).toThrow(/^payload\.days: /);
    expect(() => registry.validatePayload('report', { kind: 'sales', days: 3 })).not.toThrow();
  });

  it('refuses an unknown type, listing the registered ones, and a type registered twice', () => {
    expect(() => registry.validatePayload('nope', {})).toThrow('task_type: "nope" is not a registered task type; known: report');
    expect(() => new TaskRegistry().register(report, report)).toThrow(/registered twice/);
  });
});

describe('defineTask', () => {
  const base = { name: 'greet', payload: Type.Object({ name: Type.String({ minLength: 1 }) }), handler: async () => {} };

  it('defaults a missing description to an empty one, so a worker can register the type', () => {
    const { description, ...withoutDescription } = { ...base, description: 'x' };
    const greet = defineTask(withoutDescription);
    expect(greet.description).toBe('');
    expect(new TaskRegistry().register(withoutDescription as never).get('greet')!.description).toBe('');
    expect(description).toBe('x');
  });

  it('refuses a broken definition where it is written, naming the task type and the field', () => {
    const attempt = (changes: Record<string, unknown>) => () => defineTask({ ...base, ...changes } as never);
    expect(attempt({ name: 'has space' })).toThrow('task type "has space": name: must be 1-128 characters');
    expect(attempt({ name: undefined })).toThrow(/name: must be/);
    expect(attempt({ description: 42 })).toThrow('task type "greet": description: must be a string');
    expect(attempt({ handler: 'run' })).toThrow('task type "greet": handler: must be a function');
    expect(attempt({ timeoutMs: 0 })).toThrow(/timeoutMs: must be a whole number of milliseconds/);
    expect(attempt({ payload: undefined })).toThrow(/payload: must be a schema/);
    expect(attempt({ payload: Type.Object({ phone: Type.String({ format: 'phone' }) }) })).toThrow(/task type "greet": payload: uses the unknown format "phone"/);
    expect(attempt({ examples: [{ name: 'Ada' }, { name: '' }] })).toThrow('task type "greet": examples[1].name: must not be empty');
    // The same rules hold for a plain object handed to the registry.
    expect(() => new TaskRegistry().register({ ...base, handler: null } as never)).toThrow(/handler: must be a function/);
  });
});
