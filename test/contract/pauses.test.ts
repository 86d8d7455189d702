import { expect, it } from 'vitest';
import { createEngine } from '../helpers/create-engine.ts';
import { describeEachEngine } from './engine-fixture.ts';

describeEachEngine('paused task types', (f) => {
  it('a paused type is not claimed, its tasks keep their attempts, other types run; resumed, it is claimed again', async () => {
    const { engine, clock, insert, claim } = f();
    const email = await insert({ taskType: 'email', priority: 'critical' });
    const report = await insert({ taskType: 'report', priority: 'low' });
    const paused = await engine.typePause({ taskType: 'email', now: clock.now(), pausedBy: null, reason: 'SMTP maintenance until 14:00' });
    expect(paused).toEqual({ taskType: 'email', pausedAt: clock.now(), pausedBy: null, reason: 'SMTP maintenance until 14:00' });

    expect((await claim(10)).map((t) => t.id)).toEqual([report.id]);
    expect(await engine.taskGet({ id: email.id })).toMatchObject({ status: 'pending', currentAttempt: 0 });
    // It waits for a resume, not for a worker: the oldest ready age leaves it out; the counts keep it.
    const stats = await engine.taskStats({ now: clock.now() });
    expect(stats.oldestReadyAgeMs).toBeNull();
    expect(stats.byStatus.pending).toBe(1);

    // Pausing again keeps the first time; a new reason replaces the old one.
    clock.advance(60_000);
    const again = await engine.typePause({ taskType: 'email', now: clock.now(), pausedBy: null, reason: 'still down' });
    expect(again).toMatchObject({ pausedAt: paused.pausedAt, reason: 'still down' });
    expect(await engine.typePauseList()).toEqual([again]);

    expect(await engine.typeResume({ taskType: 'email' })).toBe(true);
    expect(await engine.typeResume({ taskType: 'email' })).toBe(false);
    expect(await engine.typePauseList()).toEqual([]);
    expect((await claim(10)).map((t) => t.id)).toEqual([email.id]);
  });

  it('resuming wakes idle workers in other processes, as an insert does', async () => {
    const { engine, db, clock } = f();
    await engine.typePause({ taskType: 'webhook', now: clock.now(), pausedBy: null, reason: null });
    const listenerEngine = createEngine(db.url);
    let wake!: (type: string | null) => void;
    const woken = new Promise<string | null>((resolve) => (wake = resolve));
    const listener = await listenerEngine.listen({ onInsert: (type) => wake(type) });
    try {
      await engine.typeResume({ taskType: 'webhook' });
      // PostgreSQL names the type; SQLite's signal file says only "something is due" (null).
      expect(await woken).toBe(db.kind === 'postgres' ? 'webhook' : null);
    } finally {
      await listener.close();
      await listenerEngine.close();
    }
  });
});
