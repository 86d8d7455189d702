import { expect, it } from 'vitest';
import { describeEachEngine, leaseOf } from './engine-fixture.ts';

describeEachEngine('lifecycle', (f) => {
  it('completes with output and records the attempt in the history', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert();
    const claimedAt = clock.now();
    const [running] = await claim(1);
    clock.advance(250);
    expect(await engine.taskComplete({ lease: leaseOf(running!), output: { sent: true, id: 'm-1' }, now: clock.now() })).toBe(true);
    const done = await engine.taskGet({ id: task.id });
    expect(done).toMatchObject({ status: 'completed', output: { sent: true, id: 'm-1' }, currentAttempt: 1, leaseExpiresAt: null });
    expect(done!.completedAt).toEqual(clock.now());
    expect(done!.attempts).toEqual([
      { attempt: 1, workerId: 'worker-a', startedAt: claimedAt, finishedAt: clock.now(), outcome: 'completed', error: null },
    ]);
  });

  it('keeps every attempt of a task that failed, was rescued, then completed, in order, on every read', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert({ retryStrategy: { type: 'fixed', interval_ms: 0, jitter: 0 }, maxAttempts: 5 });
    const [first] = await claim(1, 'worker-a');
    await engine.taskFail({ lease: leaseOf(first!), error: 'boom', now: clock.now() });
    await claim(1, 'worker-b');
    clock.advance(31_000);
    await engine.taskRescueExpired({ now: clock.now(), maxRescues: 3, limit: 100 });
    const thirdAt = clock.now();
    const [third] = await claim(1, 'worker-c');
    clock.advance(40);
    expect(await engine.taskComplete({ lease: leaseOf(third!), output: null, now: clock.now() })).toBe(true);
    const expected = [
      [1, 'worker-a', 'failed'],
      [2, 'worker-b', 'lease_expired'],
      [3, 'worker-c', 'completed'],
    ];
    const done = (await engine.taskGet({ id: task.id }))!;
    expect(done.attempts.map((a) => [a.attempt, a.workerId, a.outcome])).toEqual(expected);
    expect(done.attempts[2]).toEqual({ attempt: 3, workerId: 'worker-c', startedAt: thirdAt, finishedAt: clock.now(), outcome: 'completed', error: null });
    const [listed] = (await engine.taskList({ limit: 1 })).tasks;
    expect(listed!.attempts).toEqual(done.attempts);
  });

  it('schedules a failed attempt for retry by its strategy, then dead-letters it when attempts are spent', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert({ retryStrategy: { type: 'fixed', interval_ms: 1000, jitter: 0 }, maxAttempts: 2 });
    const [first] = await claim(1);
    const failed = await engine.taskFail({ lease: leaseOf(first!), error: 'smtp down', now: clock.now() });
    expect(failed).toEqual({ applied: true, status: 'retrying', runAt: new Date(clock.now().getTime() + 1000) });
    expect(await engine.taskGet({ id: task.id })).toMatchObject({ status: 'retrying', lastError: 'smtp down', workerId: null });
    expect(await claim(1)).toEqual([]);
    clock.advance(1000);
    const [second] = await claim(1);
    expect(second).toMatchObject({ id: task.id, currentAttempt: 2 });
    expect(await engine.taskFail({ lease: leaseOf(second!), error: 'still down', now: clock.now() })).toEqual({ applied: true, status: 'failed' });
    const dead = await engine.taskGet({ id: task.id });
    expect(dead).toMatchObject({ status: 'failed', lastError: 'still down', currentAttempt: 2 });
    expect(dead!.completedAt).toEqual(clock.now());
    expect(dead!.attempts.map((a) => [a.attempt, a.outcome, a.error])).toEqual([
      [1, 'failed', 'smtp down'],
      [2, 'failed', 'still down'],
    ]);
  });

  it('spaces retries as each strategy defines, within its jitter bounds', async () => {
    const { engine, clock, insert, claim } = f();
    const cases = [
      // The guide's formulas, after attempt n: exponential base×mult^n, linear base+inc×n, fixed interval.
      { strategy: { type: 'exponential', base_delay_ms: 1000, multiplier: 2, max_delay_ms: 300_000, jitter: 0.1 }, delays: [2000, 4000, 8000] },
      { strategy: { type: 'exponential', base_delay_ms: 1000, multiplier: 3, max_delay_ms: 5000, jitter: 0.1 }, delays: [3000, 5000, 5000] },
      { strategy: { type: 'linear', base_delay_ms: 1000, increment_ms: 500, max_delay_ms: 2200, jitter: 0.2 }, delays: [1500, 2000, 2200] },
      { strategy: { type: 'fixed', interval_ms: 700, jitter: 0.5 }, delays: [700, 700, 700] },
    ];
    for (const { strategy, delays } of cases) {
      const task = await insert({ retryStrategy: strategy, maxAttempts: 4 });
      for (const nominal of delays) {
        const [running] = await claim(1);
        expect(running!.id).toBe(task.id);
        const result = await engine.taskFail({ lease: leaseOf(running!), error: 'boom', now: clock.now() });
        if (!result.applied || result.status !== 'retrying') throw new Error(`expected a retry, got ${JSON.stringify(result)}`);
        const delay = result.runAt.getTime() - clock.now().getTime();
        expect(delay).toBeLessThanOrEqual(nominal);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal * (1 - strategy.jitter)));
        clock.advance(delay);
      }
      const [last] = await claim(1);
      expect(await engine.taskFail({ lease: leaseOf(last!), error: 'boom', now: clock.now() })).toEqual({ applied: true, status: 'failed' });
    }
  });

  it('draws jitter from the given random source', async () => {
    const { engine, clock, insert, claim } = f();
    await insert({ retryStrategy: { type: 'fixed', interval_ms: 1000, jitter: 0.5 }, maxAttempts: 3 });
    const [running] = await claim(1);
    const result = await engine.taskFail({ lease: leaseOf(running!), error: 'x', now: clock.now(), random: () => 1 });
    expect(result).toEqual({ applied: true, status: 'retrying', runAt: new Date(clock.now().getTime() + 500) });
  });

  it("holds a retry back at least minDelayMs (a receiver's Retry-After), never sooner than the strategy", async () => {
    const { engine, clock, insert, claim } = f();
    await insert({ retryStrategy: { type: 'fixed', interval_ms: 1000, jitter: 0 }, maxAttempts: 5 });
    const [first] = await claim(1);
    expect(await engine.taskFail({ lease: leaseOf(first!), error: '429', now: clock.now(), minDelayMs: 30_000 })).toEqual({ applied: true, status: 'retrying', runAt: new Date(clock.now().getTime() + 30_000) });
    clock.advance(30_000);
    const [second] = await claim(1);
    expect(await engine.taskFail({ lease: leaseOf(second!), error: '429', now: clock.now(), minDelayMs: 10 })).toEqual({ applied: true, status: 'retrying', runAt: new Date(clock.now().getTime() + 1000) });
  });

  it('sends a permanent failure straight to the dead letter', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert({ maxAttempts: 5 });
    const [running] = await claim(1);
    expect(await engine.taskFail({ lease: leaseOf(running!), error: 'invalid payload', permanent: true, now: clock.now() })).toEqual({ applied: true, status: 'failed' });
    expect(await engine.taskGet({ id: task.id })).toMatchObject({ status: 'failed', currentAttempt: 1, lastError: 'invalid payload' });
  });

  it('fences a stale attempt: its complete, fail, progress and heartbeat change nothing', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert({ maxAttempts: 5 });
    const [stale] = await claim(1, 'worker-old');
    clock.advance(31_000);
    await engine.taskRescueExpired({ now: clock.now(), maxRescues: 5, limit: 100 });
    const [fresh] = await claim(1, 'worker-new');
    expect(fresh).toMatchObject({ id: task.id, currentAttempt: 2, workerId: 'worker-new' });
    const staleLease = leaseOf(stale!);
    expect(await engine.taskComplete({ lease: staleLease, output: { from: 'stale' }, now: clock.now() })).toBe(false);
    expect(await engine.taskFail({ lease: staleLease, error: 'stale', permanent: true, now: clock.now() })).toEqual({ applied: false });
    expect(await engine.taskProgress({ lease: staleLease, progress: { percent: 99 }, now: clock.now() })).toBe(false);
    expect(await engine.taskCancelRunning({ lease: staleLease, now: clock.now() })).toBe(false);
    expect(await engine.taskRelease({ lease: staleLease, now: clock.now() })).toBe(false);
    const beat = await engine.taskHeartbeat({ workerId: 'worker-old', leases: [staleLease], now: clock.now(), leaseMs: 30_000 });
    expect(beat).toEqual({ renewed: [], lost: [task.id], cancelRequested: [] });
    // Same worker id but an older attempt number is just as stale.
    expect(await engine.taskComplete({ lease: { ...leaseOf(fresh!), attempt: 1 }, output: null, now: clock.now() })).toBe(false);
    expect(await engine.taskGet({ id: task.id })).toMatchObject({ status: 'running', currentAttempt: 2, workerId: 'worker-new', output: null, progress: null });
    expect(await engine.taskComplete({ lease: leaseOf(fresh!), output: { from: 'fresh' }, now: clock.now() })).toBe(true);
    expect(await engine.taskGet({ id: task.id })).toMatchObject({ status: 'completed', output: { from: 'fresh' } });
    // Once finished, nothing more applies, not even from the attempt that finished it.
    expect(await engine.taskComplete({ lease: leaseOf(fresh!), output: { again: true }, now: clock.now() })).toBe(false);
  });

  it('renews leases it holds and reports cancellation requests', async () => {
    const { engine, clock, insert, claim } = f();
    const a = await insert();
    const b = await insert();
    const running = await claim(2);
    await engine.taskCancel({ id: b.id, now: clock.now() });
    clock.advance(10_000);
    const beat = await engine.taskHeartbeat({ workerId: 'worker-a', leases: running.map(leaseOf), now: clock.now(), leaseMs: 30_000 });
    expect(beat.renewed.sort()).toEqual([a.id, b.id].sort());
    expect(beat.lost).toEqual([]);
    expect(beat.cancelRequested).toEqual([b.id]);
    expect((await engine.taskGet({ id: a.id }))!.leaseExpiresAt).toEqual(new Date(clock.now().getTime() + 30_000));
    // Renewed in time, so the rescuer leaves it alone at the old expiry.
    clock.advance(25_000);
    expect(await engine.taskRescueExpired({ now: clock.now(), maxRescues: 3, limit: 10 })).toEqual({ retried: [], deadLettered: [], cancelled: [] });
  });

  it('stores progress reports of the running attempt', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert();
    const [running] = await claim(1);
    expect(await engine.taskProgress({ lease: leaseOf(running!), progress: { percent: 40, message: 'half way' }, now: clock.now() })).toBe(true);
    expect((await engine.taskGet({ id: task.id }))!.progress).toEqual({ percent: 40, message: 'half way' });
  });

  it('releases a running task without spending its attempt', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert();
    const [running] = await claim(1);
    clock.advance(100);
    expect(await engine.taskRelease({ lease: leaseOf(running!), now: clock.now() })).toBe(true);
    expect(await engine.taskGet({ id: task.id })).toMatchObject({ status: 'pending', currentAttempt: 0, workerId: null, leaseExpiresAt: null });
    const [again] = await claim(1, 'worker-b');
    expect(again).toMatchObject({ id: task.id, currentAttempt: 1, workerId: 'worker-b' });
  });
});

describeEachEngine('cancel, retry, delete', (f) => {
  it('cancels pending, scheduled and retrying tasks at once', async () => {
    const { engine, clock, insert, claim } = f();
    const pending = await insert();
    const scheduled = await insert({ scheduledAt: new Date(clock.now().getTime() + 60_000) });
    const retrying = await insert({ taskType: 'report', retryStrategy: { type: 'fixed', interval_ms: 5000 } });
    const [running] = await claim(1, 'w', ['report']);
    await engine.taskFail({ lease: leaseOf(running!), error: 'x', now: clock.now() });
    for (const task of [pending, scheduled, retrying]) {
      const result = await engine.taskCancel({ id: task.id, now: clock.now() });
      expect(result.outcome).toBe('cancelled');
      expect(result.task).toMatchObject({ id: task.id, status: 'cancelled' });
    }
    clock.advance(120_000);
    expect(await claim(10)).toEqual([]);
  });

  it('marks a running task cancel-requested; its failing attempt then ends cancelled, not retried', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert({ maxAttempts: 5 });
    const [running] = await claim(1);
    const result = await engine.taskCancel({ id: task.id, now: clock.now() });
    expect(result.outcome).toBe('cancel_requested');
    expect(result.task).toMatchObject({ status: 'running' });
    expect(result.task!.cancelRequestedAt).toEqual(clock.now());
    expect(await engine.taskFail({ lease: leaseOf(running!), error: 'aborted', now: clock.now() })).toEqual({ applied: true, status: 'cancelled' });
    expect(await engine.taskGet({ id: task.id })).toMatchObject({ status: 'cancelled' });
  });

  it('ends a running attempt as cancelled when its handler stops', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert();
    const [running] = await claim(1);
    await engine.taskCancel({ id: task.id, now: clock.now() });
    expect(await engine.taskCancelRunning({ lease: leaseOf(running!), now: clock.now(), reason: 'cancelled by user' })).toBe(true);
    const cancelled = await engine.taskGet({ id: task.id });
    expect(cancelled).toMatchObject({ status: 'cancelled' });
    expect(cancelled!.attempts.at(-1)).toMatchObject({ outcome: 'cancelled', error: 'cancelled by user' });
  });

  it('refuses to cancel a finished task and reports a missing one', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert();
    const [running] = await claim(1);
    await engine.taskComplete({ lease: leaseOf(running!), output: null, now: clock.now() });
    expect((await engine.taskCancel({ id: task.id, now: clock.now() })).outcome).toBe('not_cancellable');
    expect((await engine.taskCancel({ id: '0190a4c2-0000-7000-8000-000000000000', now: clock.now() })).outcome).toBe('not_found');
  });

  it('retries a dead-lettered task with a fresh attempt, attempt numbers still rising', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert({ maxAttempts: 1 });
    const [running] = await claim(1);
    await engine.taskFail({ lease: leaseOf(running!), error: 'boom', now: clock.now() });
    clock.advance(5000);
    const retried = await engine.taskRetry({ id: task.id, now: clock.now() });
    expect(retried.outcome).toBe('retried');
    expect(retried.task).toMatchObject({ status: 'pending', currentAttempt: 1, maxAttempts: 2, completedAt: null });
    expect(retried.task!.runAt).toEqual(clock.now());
    const [again] = await claim(1);
    expect(again).toMatchObject({ id: task.id, currentAttempt: 2 });
    // The old attempt's lease cannot touch the new one.
    expect(await engine.taskComplete({ lease: leaseOf(running!), output: null, now: clock.now() })).toBe(false);
  });

  it('retries a cancelled task, and refuses to retry one that is pending or running', async () => {
    const { engine, clock, insert } = f();
    const task = await insert();
    expect((await engine.taskRetry({ id: task.id, now: clock.now() })).outcome).toBe('not_retryable');
    await engine.taskCancel({ id: task.id, now: clock.now() });
    expect((await engine.taskRetry({ id: task.id, now: clock.now() })).outcome).toBe('retried');
    expect((await engine.taskRetry({ id: '0190a4c2-0000-7000-8000-000000000000', now: clock.now() })).outcome).toBe('not_found');
  });

  it('deletes only finished tasks', async () => {
    const { engine, clock, insert } = f();
    const task = await insert();
    expect(await engine.taskDelete({ id: task.id })).toBe('not_finished');
    await engine.taskCancel({ id: task.id, now: clock.now() });
    expect(await engine.taskDelete({ id: task.id })).toBe('deleted');
    expect(await engine.taskGet({ id: task.id })).toBeNull();
    expect(await engine.taskDelete({ id: task.id })).toBe('not_found');
  });
  it('a snooze hands the task back due later, its attempt unspent and recorded as snoozed; a cancel request wins', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert({ maxAttempts: 1 });
    const [first] = await claim(1);
    const until = new Date(clock.now().getTime() + 60_000);
    expect(await engine.taskRelease({ lease: leaseOf(first!), now: clock.now(), until })).toBe(true);
    const snoozed = await engine.taskGet({ id: task.id });
    expect(snoozed).toMatchObject({ status: 'scheduled', currentAttempt: 0, runAt: until, workerId: null, leaseExpiresAt: null });
    expect(snoozed!.attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'snoozed' })]);
    expect(await claim(1)).toEqual([]);
    clock.advance(60_000);
    const [again] = await claim(1);
    expect(again).toMatchObject({ id: task.id, currentAttempt: 1, maxAttempts: 1 });

    await engine.taskCancel({ id: task.id, now: clock.now() });
    expect(await engine.taskRelease({ lease: leaseOf(again!), now: clock.now(), until })).toBe(true);
    expect(await engine.taskGet({ id: task.id })).toMatchObject({ status: 'cancelled' });
  });
  it('a task handed back at shutdown and then completed shows both attempts in its history', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert();
    const [first] = await claim(1, 'worker-leaving');
    await engine.taskRelease({ lease: leaseOf(first!), now: clock.now() });
    const [second] = await claim(1, 'worker-staying');
    expect(second!.currentAttempt).toBe(1);
    await engine.taskComplete({ lease: leaseOf(second!), output: null, now: clock.now() });
    const done = await engine.taskGet({ id: task.id });
    expect(done!.attempts.map((a) => [a.attempt, a.workerId, a.outcome])).toEqual([[1, 'worker-leaving', 'released'], [1, 'worker-staying', 'completed']]);
    expect((await engine.taskList({ limit: 10 })).tasks[0]!.attempts.map((a) => a.outcome)).toEqual(['released', 'completed']);
  });
});
