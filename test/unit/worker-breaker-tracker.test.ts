import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { Engine } from '../../src/store/engine.ts';
import { BreakerTracker } from '../../src/worker/breaker-tracker.ts';
import { WorkerEventEmitter } from '../../src/worker/worker-events.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { openTestEngine } from '../helpers/task-fixtures.ts';

/** Collects log lines so a test can read them. */
function recordingLogger(lines: { level: string; obj: object; msg?: string }[]): Logger {
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

describe.each(testDatabases)('BreakerTracker on $kind', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;

  afterEach(async () => {
    await engine?.close();
    await db?.drop();
  });

  it('writes successes only when they change something, and logs the transitions it causes', async () => {
    db = create();
    engine = await openTestEngine(db);
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const lines: { level: string; obj: object; msg?: string }[] = [];
    const tracker = new BreakerTracker({ engine, clock, logger: recordingLogger(lines), config: { failureThreshold: 2, successThreshold: 2, openMs: 10_000 } });

    // Never seen: closed, a success changes nothing.
    expect(tracker.successMatters('mail')).toBe(false);
    await tracker.record('mail', 'failure');
    // One failure in the run: the next success resets it.
    expect(tracker.successMatters('mail')).toBe(true);
    await tracker.record('mail', 'success');
    expect(tracker.successMatters('mail')).toBe(false);

    await tracker.record('mail', 'failure');
    await tracker.record('mail', 'failure');
    expect(tracker.get('mail')?.state).toBe('open');
    expect(lines.find((line) => line.level === 'warn')?.obj).toMatchObject({ task_type: 'mail', breaker_from: 'closed', breaker_to: 'open', consecutive_failures: 2 });

    // Half-open after the wait: successes count toward closing.
    clock.advance(10_000);
    expect(tracker.successMatters('mail')).toBe(true);
    await tracker.record('mail', 'success');
    await tracker.record('mail', 'success');
    expect(tracker.get('mail')?.state).toBe('closed');
    expect((await engine.breakerGet({ taskType: 'mail' }))?.state).toBe('closed');
    expect(lines.some((line) => line.level === 'info' && (line.obj as { breaker_to?: string }).breaker_to === 'closed')).toBe(true);
  });

  it("keeps a scope's breaker apart from its type's: an open host holds back only that host's tasks, and says so", async () => {
    db = create();
    engine = await openTestEngine(db);
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const lines: { level: string; obj: object; msg?: string }[] = [];
    const events = new WorkerEventEmitter();
    const opened: unknown[][] = [];
    events.on('breaker-opened', (...args) => void opened.push(args));
    const tracker = new BreakerTracker({ engine, clock, events, logger: recordingLogger(lines), config: { failureThreshold: 2, successThreshold: 1, openMs: 10_000 } });

    await tracker.record('webhook', 'failure', 'down.example.com');
    await tracker.record('webhook', 'failure', 'down.example.com');
    expect(tracker.isOpen('webhook', 'down.example.com')).toBe(true);
    expect(tracker.isOpen('webhook', 'up.example.com')).toBe(false);
    expect(tracker.isOpen('webhook')).toBe(false);
    expect(tracker.get('webhook', 'down.example.com')).toMatchObject({ scope: 'down.example.com', state: 'open' });
    expect(await engine.breakerGet({ taskType: 'webhook' })).toBeNull();
    expect(opened).toEqual([['webhook', 'down.example.com', new Date(clock.nowMs() + 10_000)]]);
    expect(lines.find((line) => line.level === 'warn')).toMatchObject({
      obj: { task_type: 'webhook', breaker_scope: 'down.example.com', breaker_to: 'open' },
      msg: expect.stringContaining('circuit breaker for webhook @ down.example.com opened'),
    });
    // The other host's success is its own: it does not count toward closing the open one.
    await tracker.record('webhook', 'success', 'up.example.com');
    expect(tracker.isOpen('webhook', 'down.example.com')).toBe(true);
    // A type-wide breaker still holds back every scope of the type.
    await tracker.record('webhook', 'failure');
    await tracker.record('webhook', 'failure');
    expect(tracker.isOpen('webhook', 'up.example.com')).toBe(true);
  });

  it('learns state other workers wrote when it refreshes', async () => {
    db = create();
    engine = await openTestEngine(db);
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const config = { failureThreshold: 1, successThreshold: 1, openMs: 10_000 };
    const tracker = new BreakerTracker({ engine, clock, logger: recordingLogger([]), config });
    // Another worker opens the breaker.
    await engine.breakerRecord({ taskType: 'hook', outcome: 'failure', now: clock.now(), config });
    expect(tracker.get('hook')).toBeNull();
    await tracker.refresh();
    expect(tracker.get('hook')?.state).toBe('open');
    expect(tracker.successMatters('hook')).toBe(true);
  });
});
