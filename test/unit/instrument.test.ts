import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { newTask } from '../../src/core/new-task.ts';
import { createEngine } from '../../src/store/create-engine.ts';
import { instrumentEngine, type EngineCall } from '../../src/store/instrument.ts';

describe('engine instrumentation', () => {
  it('reports every call with its duration and the error code of a failure', async () => {
    const calls: EngineCall[] = [];
    const engine = instrumentEngine(createEngine('sqlite::memory:'), { logger: silentLogger, onCall: (call) => calls.push(call) });
    await engine.migrate();
    await engine.taskInsert({ task: newTask({ taskType: 'email', payload: {} }, new Date()) });
    await expect(engine.taskList({ limit: 0 })).rejects.toMatchObject({ code: 'CONVEYOR_VALIDATION' });
    expect(calls.map((c) => [c.method, c.errorCode])).toEqual([
      ['migrate', null],
      ['taskInsert', null],
      ['taskList', 'CONVEYOR_VALIDATION'],
    ]);
    expect(calls.every((c) => c.durationMs >= 0)).toBe(true);
    expect(engine.kind).toBe('sqlite');
    await engine.close();
  });
});
