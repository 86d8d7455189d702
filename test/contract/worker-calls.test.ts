import { expect, it } from 'vitest';
import type { JsonValue } from '../../src/core/task.ts';
import { createEngine } from '../helpers/create-engine.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { describeEachEngine, leaseOf } from './engine-fixture.ts';

/** The engine calls a worker's prefetch, idle wake-ups and lease upkeep rely on. */
describeEachEngine('worker calls', (f) => {
  it('a claimed task carries the stored fields a handler and the queue order need', async () => {
    const { engine, clock, insert, claim } = f();
    await insert({ priority: 'high', metadata: { m: 1 }, idempotencyKey: 'k-1', scheduledAt: new Date(clock.now().getTime() - 5000) });
    const retried = await insert({ taskType: 'report', retryStrategy: { type: 'fixed', interval_ms: 0 } });
    const [first] = await claim(1, 'w', ['report']);
    await engine.taskFail({ lease: leaseOf(first!), error: 'boom', now: clock.now() });
    clock.advance(10);
    const claimed = await claim(10, 'worker-z');
    expect(claimed).toHaveLength(2);
    for (const task of claimed) {
      const stored = (await engine.taskGet({ id: task.id }))!;
      const { id, taskType, payload, priority, runAt, currentAttempt, maxAttempts, metadata, idempotencyKey, createdBy, createdAt, workerId, rescueCount } = stored;
      // Claimed at once (no startNow: every task fills a free slot), never lost before: counted as started.
      const rescue = { rescueCount, unstartedLosses: 0, startRecorded: true };
      // No breaker scope: only webhooks have one (breaker-scope.ts).
      const breakerScope = null;
      expect(task).toEqual({ id, taskType, payload, priority, runAt, currentAttempt, maxAttempts, metadata, idempotencyKey, createdBy, createdAt, workerId, breakerScope, ...rescue });
    }
    expect(claimed.find((t) => t.id === retried.id)).toMatchObject({ currentAttempt: 2 });
    expect(await engine.taskGet({ id: retried.id })).toMatchObject({ status: 'running', lastError: 'boom', attempts: [{ attempt: 1, outcome: 'failed' }] });
  });

  it('completions made at once (one batch, several workers, some outputs) keep each lease fenced and each output', async () => {
    const { engine, clock, insertMany, claim } = f();
    await insertMany(40);
    const a = await claim(20, 'worker-a');
    const b = await claim(20, 'worker-b');
    const leases = [...a, ...b].map(leaseOf);
    // One stale lease (wrong attempt) among them: only it is refused.
    leases[7] = { ...leases[7]!, attempt: 5 };
    const results = await Promise.all(
      leases.map((lease, n) => {
        clock.advance(1);
        return engine.taskComplete({ lease, output: n % 3 === 0 ? { n } : null, now: clock.now() });
      }),
    );
    expect(results.filter((applied) => !applied)).toHaveLength(1);
    expect(results[7]).toBe(false);
    for (const [n, lease] of leases.entries()) {
      const task = (await engine.taskGet({ id: lease.id }))!;
      if (n === 7) {
        expect(task.status).toBe('running');
        continue;
      }
      expect(task).toMatchObject({ status: 'completed', output: n % 3 === 0 ? { n } : null, workerId: lease.workerId });
      expect(task.attempts).toEqual([expect.objectContaining({ attempt: 1, workerId: lease.workerId, outcome: 'completed', finishedAt: task.completedAt })]);
    }
  });

  it('completions made at once keep outputs exactly, a large one and text that needs escaping alike', async () => {
    const { engine, clock, insertMany, claim } = f();
    await insertMany(4);
    const leases = (await claim(4, 'worker-a')).map(leaseOf);
    const outputs: JsonValue[] = [{ big: 'x'.repeat(40_000) }, { text: 'quote " backslash \\ ünïcødé 🚀 \n' }, ['a', 1, null, { nested: true }], null];
    const results = await Promise.all(leases.map((lease, n) => engine.taskComplete({ lease, output: outputs[n]!, now: clock.now() })));
    expect(results).toEqual([true, true, true, true]);
    for (const [n, lease] of leases.entries()) expect((await engine.taskGet({ id: lease.id }))!.output).toEqual(outputs[n]);
  });

  it('unclaims tasks that never started: attempt given back, nothing recorded, place in line kept', async () => {
    const { engine, clock, insert, claim } = f();
    const first = await insert();
    clock.advance(1);
    const second = await insert({ taskType: 'report', retryStrategy: { type: 'fixed', interval_ms: 0 } });
    clock.advance(1);
    const third = await insert();
    // The report task fails once, so that it comes back as a retry.
    const [report] = await claim(1, 'w', ['report']);
    await engine.taskFail({ lease: leaseOf(report!), error: 'boom', now: clock.now() });
    const before = await engine.taskGet({ id: second.id });
    const claimed = await claim(10, 'worker-a');
    expect(claimed.map((t) => t.id)).toEqual([first.id, second.id, third.id]);
    clock.advance(50);
    // Only the two it names, and only for this worker's leases.
    const result = await engine.taskUnclaim({ workerId: 'worker-a', leases: claimed.slice(0, 2).map(leaseOf), now: clock.now() });
    expect(result.released.sort()).toEqual([first.id, second.id].sort());
    expect(result.cancelled).toEqual([]);
    expect(await engine.taskGet({ id: first.id })).toMatchObject({
      status: 'pending', currentAttempt: 0, workerId: null, leaseExpiresAt: null, startedAt: null, attempts: [], runAt: first.runAt, updatedAt: clock.now(),
    });
    expect(await engine.taskGet({ id: second.id })).toMatchObject({ status: 'retrying', currentAttempt: 1, runAt: before!.runAt, attempts: before!.attempts });
    expect(await engine.taskGet({ id: third.id })).toMatchObject({ status: 'running', workerId: 'worker-a' });
    // Back in their old places: claimed again in the same order, as the same attempt numbers.
    const again = await claim(10, 'worker-b');
    expect(again.map((t) => [t.id, t.currentAttempt])).toEqual([
      [first.id, 1],
      [second.id, 2],
    ]);
  });

  it('unclaims only leases still held; a cancel requested meanwhile ends the task cancelled', async () => {
    const { engine, clock, insert, claim } = f();
    const kept = await insert();
    clock.advance(1);
    const cancelled = await insert();
    const [a, b] = await claim(2, 'worker-a');
    expect([a!.id, b!.id]).toEqual([kept.id, cancelled.id]);
    expect((await engine.taskCancel({ id: cancelled.id, now: clock.now() })).outcome).toBe('cancel_requested');
    // Another worker's id, or a wrong attempt, changes nothing.
    expect(await engine.taskUnclaim({ workerId: 'worker-b', leases: [{ ...leaseOf(a!), workerId: 'worker-b' }], now: clock.now() })).toEqual({ released: [], cancelled: [] });
    expect(await engine.taskUnclaim({ workerId: 'worker-a', leases: [{ ...leaseOf(a!), attempt: 7 }], now: clock.now() })).toEqual({ released: [], cancelled: [] });
    expect(await engine.taskUnclaim({ workerId: 'worker-a', leases: [], now: clock.now() })).toEqual({ released: [], cancelled: [] });
    clock.advance(5);
    expect(await engine.taskUnclaim({ workerId: 'worker-a', leases: [leaseOf(a!), leaseOf(b!)], now: clock.now() })).toEqual({ released: [kept.id], cancelled: [cancelled.id] });
    expect(await engine.taskGet({ id: cancelled.id })).toMatchObject({ status: 'cancelled', currentAttempt: 0, completedAt: clock.now(), attempts: [] });
    // Unclaiming twice does nothing the second time.
    expect(await engine.taskUnclaim({ workerId: 'worker-a', leases: [leaseOf(a!)], now: clock.now() })).toEqual({ released: [], cancelled: [] });
  });

  it('says when the next waiting task of the given types comes due', async () => {
    const { engine, clock, insert, claim } = f();
    const now = clock.now().getTime();
    expect(await engine.taskNextDueAt({ taskTypes: ['email'], now: clock.now() })).toBeNull();
    // Due already: not "next" (a claim takes it).
    await insert();
    await insert({ taskType: 'webhook', scheduledAt: new Date(now + 1000) });
    await insert({ scheduledAt: new Date(now + 9000), priority: 'critical' });
    await insert({ scheduledAt: new Date(now + 7000), priority: 'low' });
    const retrying = await insert({ taskType: 'report', retryStrategy: { type: 'fixed', interval_ms: 3000, jitter: 0 } });
    expect((await engine.taskNextDueAt({ taskTypes: ['email'], now: clock.now() }))!.getTime()).toBe(now + 7000);
    expect((await engine.taskNextDueAt({ taskTypes: ['email', 'webhook'], now: clock.now() }))!.getTime()).toBe(now + 1000);
    expect(await engine.taskNextDueAt({ taskTypes: ['report'], now: clock.now() })).toBeNull();
    expect(await engine.taskNextDueAt({ taskTypes: [], now: clock.now() })).toBeNull();
    const [running] = await claim(1, 'w', ['report']);
    expect(running!.id).toBe(retrying.id);
    await engine.taskFail({ lease: leaseOf(running!), error: 'later', now: clock.now() });
    expect((await engine.taskNextDueAt({ taskTypes: ['report', 'email'], now: clock.now() }))!.getTime()).toBe(now + 3000);
    clock.advance(3000);
    expect((await engine.taskNextDueAt({ taskTypes: ['report', 'email'], now: clock.now() }))!.getTime()).toBe(now + 7000);
  });

  it('a heartbeat can look at leases without extending them', async () => {
    const { engine, clock, insert, claim } = f();
    await insert();
    await insert();
    await insert();
    await insert();
    const claimedAt = clock.now().getTime();
    const [renewed, looked, cancelled] = await claim(3);
    const [elsewhere] = await claim(1, 'worker-b');
    await engine.taskCancel({ id: cancelled!.id, now: clock.now() });
    clock.advance(10_000);
    // A lease this worker does not hold (another worker's task) is reported lost.
    const notMine = { ...leaseOf(elsewhere!), workerId: 'worker-a' };
    const beat = await engine.taskHeartbeat({ workerId: 'worker-a', leases: [leaseOf(renewed!)], check: [leaseOf(looked!), leaseOf(cancelled!), notMine], now: clock.now(), leaseMs: 30_000 });
    expect(beat.renewed).toEqual([renewed!.id]);
    expect(beat.lost).toEqual([elsewhere!.id]);
    expect(beat.cancelRequested).toEqual([cancelled!.id]);
    expect((await engine.taskGet({ id: renewed!.id }))!.leaseExpiresAt).toEqual(new Date(clock.now().getTime() + 30_000));
    // Looked at, not extended.
    expect((await engine.taskGet({ id: looked!.id }))!.leaseExpiresAt).toEqual(new Date(claimedAt + 30_000));
    // Only looking: nothing to extend.
    expect(await engine.taskHeartbeat({ workerId: 'worker-a', leases: [], check: [leaseOf(looked!)], now: clock.now(), leaseMs: 30_000 })).toEqual({ renewed: [], lost: [], cancelRequested: [] });
  });

  it('wakes listeners when tasks become due again: retried by hand, released, unclaimed, rescued', async () => {
    const { engine, db, clock, insert, claim } = f();
    const listenerEngine = createEngine(db.url);
    // A listener subscribed just before each action, so that earlier inserts' notifications are not counted.
    const woken = async (what: string, action: () => Promise<unknown>) => {
      let wakes = 0;
      const listener = await listenerEngine.listen({ onInsert: () => (wakes += 1) });
      try {
        await action();
        await waitFor(() => wakes > 0, { timeoutMs: 5000, message: `a wake-up after ${what}` });
      } finally {
        await listener.close();
      }
    };
    try {
      await insert();
      await insert();
      await insert();
      const failed = await insert({ taskType: 'report', maxAttempts: 1 });
      const [one, two, three] = await claim(3, 'w', ['email']);
      const [report] = await claim(1, 'w', ['report']);
      await engine.taskFail({ lease: leaseOf(report!), error: 'done for', now: clock.now() });
      expect((await engine.taskGet({ id: failed.id }))!.status).toBe('failed');
      await woken('a release', () => engine.taskRelease({ lease: leaseOf(one!), now: clock.now() }));
      await woken('an unclaim', () => engine.taskUnclaim({ workerId: 'w', leases: [leaseOf(two!)], now: clock.now() }));
      await woken('a retry by hand', () => engine.taskRetry({ id: failed.id, now: clock.now() }));
      clock.advance(31_000);
      await woken('a rescue', () => engine.taskRescueExpired({ now: clock.now(), maxRescues: 5, limit: 10 }));
      expect((await engine.taskGet({ id: three!.id }))!.status).toBe('retrying');
    } finally {
      await listenerEngine.close();
    }
  });
});
