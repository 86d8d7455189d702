import { expect, it } from 'vitest';
import { describeEachEngine, leaseOf, type Claimed } from './engine-fixture.ts';

/**
 * Fair rescue accounting (issue 14): only an attempt whose handler started counts against
 * max_rescues. A task claimed ahead (a worker's prefetch) and lost with its worker before it started
 * goes back as if never claimed; a started attempt lost is counted and kept in the history.
 */
describeEachEngine('rescue accounting', (f) => {
  const LEASE_MS = 30_000;
  const claimFor = async (workerId: string, limit: number, startNow: number): Promise<Claimed[]> => {
    const { engine, clock } = f();
    return (await engine.taskClaim({ workerId, taskTypes: ['email'], limit, now: clock.now(), leaseMs: LEASE_MS, startNow })).map((task) => ({ ...task, workerId }));
  };
  const rescue = async () => {
    const { engine, clock } = f();
    clock.advance(LEASE_MS + 1);
    return engine.taskRescueExpired({ now: clock.now(), maxRescues: 3, limit: 10 });
  };
  const recordStart = async (running: Claimed) => {
    const { engine, clock } = f();
    return engine.taskStartRecord({ workerId: running.workerId, starts: [{ lease: leaseOf(running), startedAt: clock.now() }] });
  };

  it('counts as started only the tasks a claim gives to free slots', async () => {
    const { insertMany } = f();
    await insertMany(3, { maxAttempts: 5 });
    const claimed = await claimFor('w-1', 3, 1);
    expect(claimed.map((task) => task.startRecorded)).toEqual([true, false, false]);
    expect(claimed.map((task) => [task.rescueCount, task.unstartedLosses])).toEqual([[0, 0], [0, 0], [0, 0]]);
  });

  it('hands back free a task lost before it started: attempt given back, no rescue, nothing in the history', async () => {
    const { engine, insertMany } = f();
    await insertMany(2, { maxAttempts: 5 });
    const [started, waiting] = await claimFor('w-dead', 2, 1);
    expect(await rescue()).toEqual({ retried: expect.arrayContaining([started!.id, waiting!.id]), deadLettered: [], cancelled: [] });

    const free = await engine.taskGet({ id: waiting!.id });
    expect(free).toMatchObject({ status: 'pending', currentAttempt: 0, rescueCount: 0, workerId: null, startedAt: null, lastError: null, leaseExpiresAt: null });
    expect(free!.attempts).toEqual([]);
    // Its place in line is kept: it was due before, it is still due at the same time.
    expect(free!.runAt).toEqual(waiting!.runAt);

    const counted = await engine.taskGet({ id: started!.id });
    expect(counted).toMatchObject({ status: 'retrying', currentAttempt: 1, rescueCount: 1 });
  });

  it('counts a started attempt lost with its worker and keeps it in the history', async () => {
    const { engine, insert, clock } = f();
    const task = await insert({ maxAttempts: 5 });
    const claimedAt = clock.now();
    await claimFor('w-dead', 1, 1);
    await rescue();
    const rescued = await engine.taskGet({ id: task.id });
    expect(rescued).toMatchObject({ status: 'retrying', currentAttempt: 1, rescueCount: 1 });
    expect(rescued!.lastError).toBe('lease expired: worker w-dead stopped renewing while the handler ran (rescue 1 of max 3)');
    expect(rescued!.attempts).toEqual([
      expect.objectContaining({ attempt: 1, workerId: 'w-dead', outcome: 'lease_expired', startedAt: claimedAt, error: rescued!.lastError }),
    ]);
  });

  it('counts a task claimed ahead once the worker recorded its start, from the real start time', async () => {
    const { engine, insertMany, clock } = f();
    await insertMany(2, { maxAttempts: 5 });
    const claimed = await claimFor('w-1', 2, 0);
    const [first, second] = claimed;
    expect(claimed.map((task) => task.startRecorded)).toEqual([false, false]);
    clock.advance(250);
    const startedAt = clock.now();
    expect(await recordStart(claimed[0]!)).toEqual([first!.id]);
    // Recorded once: a second record changes nothing; another worker's lease records nothing.
    expect(await recordStart(claimed[0]!)).toEqual([]);
    expect(await engine.taskStartRecord({ workerId: 'w-2', starts: [{ lease: { ...leaseOf(claimed[1]!), workerId: 'w-2' }, startedAt }] })).toEqual([]);
    expect((await engine.taskGet({ id: first!.id }))!.startedAt).toEqual(startedAt);

    await rescue();
    expect(await engine.taskGet({ id: first!.id })).toMatchObject({ status: 'retrying', rescueCount: 1, currentAttempt: 1 });
    expect((await engine.taskGet({ id: first!.id }))!.attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'lease_expired', startedAt })]);
    expect(await engine.taskGet({ id: second!.id })).toMatchObject({ status: 'pending', rescueCount: 0, currentAttempt: 0 });
  });

  it('never counts a rescued task, or one lost unstarted, as started at claim: its worker records the start first', async () => {
    const { insertMany } = f();
    await insertMany(2, { maxAttempts: 5 });
    const [poison, waiting] = await claimFor('w-dead', 2, 1);
    await rescue();
    const again = await claimFor('w-2', 2, 2);
    expect(again.map((task) => [task.id, task.rescueCount, task.unstartedLosses, task.startRecorded])).toEqual(
      expect.arrayContaining([
        [poison!.id, 1, 0, false],
        [waiting!.id, 0, 1, false],
      ]),
    );
  });

  it('dead-letters a poison after max_rescues started attempts, each in its history, and not before', async () => {
    const { engine, insert } = f();
    const poison = await insert({ maxAttempts: 100 });
    for (let round = 1; round <= 3; round++) {
      // Lost unstarted in between: free, however often.
      const [queued] = await claimFor(`w-queue-${round}`, 1, 0);
      expect(queued!.id).toBe(poison.id);
      expect((await rescue()).retried).toEqual([poison.id]);

      const [running] = await claimFor(`w-${round}`, 1, 1);
      if (!running!.startRecorded) expect(await recordStart(running!)).toEqual([poison.id]);
      const result = await rescue();
      expect(result).toEqual(round < 3 ? { retried: [poison.id], deadLettered: [], cancelled: [] } : { retried: [], deadLettered: [poison.id], cancelled: [] });
    }
    const dead = await engine.taskGet({ id: poison.id });
    expect(dead).toMatchObject({ status: 'failed', rescueCount: 3, currentAttempt: 3 });
    expect(dead!.lastError).toBe(
      'lease expired: worker w-3 stopped renewing while the handler ran (rescue 3 of max 3): dead-lettered, as its handler may be what kills its workers (process.exit, a blocked event loop)',
    );
    expect(dead!.attempts.map((attempt) => [attempt.attempt, attempt.workerId, attempt.outcome])).toEqual([
      [1, 'w-1', 'lease_expired'],
      [2, 'w-2', 'lease_expired'],
      [3, 'w-3', 'lease_expired'],
    ]);
  });

  it('ends cancelled a task lost unstarted whose cancellation was requested', async () => {
    const { engine, insert, clock } = f();
    const task = await insert();
    await claimFor('w-dead', 1, 0);
    await engine.taskCancel({ id: task.id, now: clock.now() });
    expect(await rescue()).toEqual({ retried: [], deadLettered: [], cancelled: [task.id] });
    expect(await engine.taskGet({ id: task.id })).toMatchObject({ status: 'cancelled', currentAttempt: 0, rescueCount: 0, attempts: [] });
  });

  it('a manual retry clears the rescue counts', async () => {
    const { engine, insert, clock } = f();
    const task = await insert({ maxAttempts: 5 });
    for (let round = 1; round <= 3; round++) {
      const [running] = await claimFor(`w-${round}`, 1, 1);
      if (!running!.startRecorded) await recordStart(running!);
      await rescue();
    }
    expect((await engine.taskRetry({ id: task.id, now: clock.now() })).outcome).toBe('retried');
    const [again] = await claimFor('w-4', 1, 1);
    expect(again).toMatchObject({ id: task.id, rescueCount: 0, unstartedLosses: 0, startRecorded: true });
  });
});
