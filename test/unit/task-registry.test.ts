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
    expect(() => registry.validatePayload('report', { kind: 'weather', days: 2 })).toThrow('payload.kind: must be one of sales, usage');
    expect(() => registry.validatePayload('report', { kind: 'sales', days: 0 })).toThrow(/^payload\.days: /);
    expect(() => registry.validatePayload('report', { kind: 'sales', days: 3 })).not.toThrow();
  });

  it('refuses an unknown type, listing the registered ones, and a type registered twice', () => {
    expect(() => registry.validatePayload('nope', {})).toThrow('task_type: "nope" is not a registered task type; known: report');
    expect(() => new TaskRegistry().register(report, report)).toThrow(/registered twice/);
  });
});
