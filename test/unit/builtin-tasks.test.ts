import { describe, expect, it } from 'vitest';
import { createBuiltinTasks, type BuiltinTaskDeps } from '../../src/tasks/builtin/builtin-tasks.ts';
import type { ReportSource } from '../../src/tasks/builtin/report-source.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';

const deps = (sources: ReportSource[] = []): BuiltinTaskDeps => ({
  dataDir: '/var/lib/conveyor-test',
  email: { from: 'conveyor@example.org', outboxDir: '' },
  webhook: { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', allowHosts: [], timeoutMs: 15_000 },
  fileCleanup: { roots: ['/tmp/uploads'] },
  reports: { artifactsDir: '', sources },
});

// The guide's "Built-in Task Types" payloads, exactly as written there.
const GUIDE_EXAMPLES: Record<string, unknown> = {
  email: { to: 'user@example.com', subject: 'Welcome!', body: 'Thanks for signing up' },
  data_processing: { operation: 'sum', data: [1, 2, 3, 4, 5] },
  webhook: { url: 'https://api.example.com/notify', method: 'POST', payload: { event: 'user_created' } },
  file_cleanup: { file_path: '/tmp/uploads', max_age_hours: 24 },
  report_generation: { report_type: 'sales', start_date: '2024-01-01', end_date: '2024-01-31' },
};

describe('createBuiltinTasks', () => {
  it('defines the five built-in types, each described, with a timeout and the guide example first', () => {
    const tasks = createBuiltinTasks(deps());
    expect(tasks.map((task) => task.name)).toEqual(['email', 'webhook', 'data_processing', 'file_cleanup', 'report_generation']);
    const registry = new TaskRegistry().register(...tasks);
    for (const task of tasks) {
      expect(task.description.length, task.name).toBeGreaterThan(20);
      expect(task.timeoutMs, task.name).toBeGreaterThan(0);
      expect(task.examples?.[0], task.name).toEqual(GUIDE_EXAMPLES[task.name]);
      for (const example of task.examples ?? []) registry.validatePayload(task.name, example);
      // The schema is stored and served as plain JSON Schema.
      expect(JSON.parse(JSON.stringify(task.payload)).type, task.name).toBe('object');
      expect(task.payload.additionalProperties, task.name).toBe(false);
    }
  });

  it('offers the engine sources alongside the sales demo, and lets a real "sales" source replace the demo', () => {
    const source = (name: string): ReportSource => ({ name, description: name, columns: [], rows: async () => [] });
    const report = (sources: ReportSource[]) => createBuiltinTasks(deps(sources)).find((task) => task.name === 'report_generation')!;
    expect(report([source('task_activity')]).payload.properties.report_type.description).toBe('One of: task_activity, sales');
    expect(report([source('sales')]).description).toContain('sales (sales)');
    expect(() => report([source('x'), source('x')])).toThrow(/two report sources/);
  });

  it('refuses a whsec_ webhook secret that is not base64 at start-up', () => {
    expect(() => createBuiltinTasks({ ...deps(), webhook: { secret: 'whsec_???', allowHosts: [], timeoutMs: 1000 } })).toThrow(/base64/);
  });
});
