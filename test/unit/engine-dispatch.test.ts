import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core/logger.ts';
import { newTask } from '../../src/core/new-task.ts';
import { createEngine } from '../helpers/create-engine.ts';
import { waitFor } from '../helpers/wait-for.ts';
import type { EngineCall } from '../../src/store/engine.ts';

/** A logger that keeps what it was given, to see what the dispatch layer logs. */
function recordingLogger(lines: { level: string; fields: Record<string, unknown>; message: string }[]): Logger {
  const at = (level: string) => (fields: object, message?: string) => void lines.push({ level, fields: fields as Record<string, unknown>, message: message ?? '' });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

describe('engine dispatch', () => {
  it('reports every call with its duration and the error code of a failure', async () => {
    const calls: EngineCall[] = [];
    const engine = createEngine('sqlite::memory:');
    const stop = engine.observeCalls((call) => calls.push(call));
    await engine.migrate();
    await engine.taskInsert({ task: newTask({ taskType: 'email', payload: {} }, new Date()) });
    await expect(engine.taskList({ limit: 0 })).rejects.toMatchObject({ code: 'CONVEYOR_VALIDATION', field: 'limit' });
    expect(await engine.taskGet({ id: 'not-a-uuid' })).toBeNull();
    stop();
    await engine.taskGet({ id: 'not-a-uuid' });
    // The insert changed what a dashboard shows: its change notification is a call of its own.
    expect(calls.filter((c) => c.method !== 'changeNotify').map((c) => [c.method, c.errorCode])).toEqual([
      ['migrate', null],
      ['taskInsert', null],
      ['taskList', 'CONVEYOR_VALIDATION'],
      ['taskGet', null],
    ]);
    expect(calls.every((c) => c.durationMs >= 0)).toBe(true);
    expect(engine.kind).toBe('sqlite');
    await engine.close();
  });

  it('follows calls that changed something with a change notification, at most one a second per process', async () => {
    const engine = createEngine('sqlite::memory:');
    await engine.migrate();
    const calls: string[] = [];
    engine.observeCalls((call) => calls.push(call.method));
    let heard = 0;
    await engine.changeListen({ onChange: () => heard++ });
    // Reads, and a claim that finds nothing, change nothing.
    await engine.taskList({ limit: 5 });
    await engine.taskClaim({ workerId: 'w1', taskTypes: ['email'], limit: 1, now: new Date(), leaseMs: 60_000 });
    expect(calls).not.toContain('changeNotify');

    // A burst: the first change is told at once, the rest together at the end of the second.
    const started = Date.now();
    for (let i = 0; i < 10; i++) await engine.taskInsert({ task: newTask({ taskType: 'email', payload: {} }, new Date()) });
    const burstSeconds = Math.floor((Date.now() - started) / 1000);
    await waitFor(() => heard >= 1, { message: 'the first change notification' });
    // Closing sends the one still waiting for its second: a one-off command's change is not lost.
    await engine.close();
    const sent = calls.filter((method) => method === 'changeNotify').length;
    expect(sent).toBeGreaterThanOrEqual(2);
    expect(sent).toBeLessThanOrEqual(2 + burstSeconds);
    expect(heard).toBe(sent);
  });

  it('logs a failed call at warn with its code, and a refused one at debug only', async () => {
    const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const engine = createEngine('sqlite::memory:', { logger: recordingLogger(lines) });
    await engine.migrate();
    await expect(engine.taskList({ limit: 5000 })).rejects.toMatchObject({ code: 'CONVEYOR_VALIDATION' });
    await engine.close();
    await expect(engine.taskList({ limit: 10 })).rejects.toMatchObject({ code: 'CONVEYOR_CLOSED' });
    const engineLines = lines.filter((line) => line.fields.method !== undefined);
    expect(engineLines.map((line) => [line.level, line.fields.method, line.fields.errorCode])).toEqual([
      ['debug', 'taskList', 'CONVEYOR_VALIDATION'],
      ['warn', 'taskList', 'CONVEYOR_CLOSED'],
    ]);
  });
});
