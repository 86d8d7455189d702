import { expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { DEFAULT_QUOTA_CONFIG } from '../../src/core/quota.ts';
import { Maintenance } from '../../src/worker/maintenance/maintenance.ts';
import { WorkerEventEmitter } from '../../src/worker/worker-events.ts';
import { describeEachEngine, leaseOf } from './engine-fixture.ts';

const ANN = '0190a4c2-0000-7000-8000-0000000000a1';
const MINUTE = 60_000;

describeEachEngine('maintenance', (f) => {
  it('rescues an expired lease back to retrying, counting the rescue', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert({ maxAttempts: 5 });
    await claim(1, 'worker-dead');
    clock.advance(30_000);
    expect(await engine.taskRescueExpired({ now: clock.now(), maxRescues: 3, limit: 10 })).toEqual({ retried: [], deadLettered: [], cancelled: [] });
    clock.advance(1);
    expect(await engine.taskRescueExpired({ now: clock.now(), maxRescues: 3, limit: 10 })).toEqual({ retried: [task.id], deadLettered: [], cancelled: [] });
    const rescued = await engine.taskGet({ id: task.id });
    expect(rescued).toMatchObject({ status: 'retrying', rescueCount: 1, currentAttempt: 1, leaseExpiresAt: null });
    expect(rescued!.runAt).toEqual(clock.now());
    expect(rescued!.lastError).toMatch(/lease expired/);
    expect(rescued!.attempts).toEqual([expect.objectContaining({ attempt: 1, workerId: 'worker-dead', outcome: 'lease_expired' })]);
  });

  it('sends a task that keeps killing workers to the dead letter after the rescue cap', async () => {
    const { engine, clock, insert, claim } = f();
    const poison = await insert({ maxAttempts: 100 });
    for (let rescue = 1; rescue <= 3; rescue++) {
      const [running] = await claim(1, `worker-${rescue}`);
      expect(running!.id).toBe(poison.id);
      // A rescued task's start is recorded before its handler runs (decideStart), as the worker does.
      if (!running!.startRecorded) await engine.taskStartRecord({ workerId: running!.workerId, starts: [{ lease: leaseOf(running!), startedAt: clock.now() }] });
      clock.advance(30_001);
      const result = await engine.taskRescueExpired({ now: clock.now(), maxRescues: 3, limit: 10 });
      expect(result).toEqual(rescue < 3 ? { retried: [poison.id], deadLettered: [], cancelled: [] } : { retried: [], deadLettered: [poison.id], cancelled: [] });
    }
    expect(await engine.taskGet({ id: poison.id })).toMatchObject({ status: 'failed', rescueCount: 3 });
    expect(await claim(1)).toEqual([]);
  });

  it('dead-letters a rescued task whose attempts are spent, and cancels one whose cancellation was asked', async () => {
    const { engine, clock, insert, claim } = f();
    const spent = await insert({ maxAttempts: 1 });
    const cancelMe = await insert({ maxAttempts: 5 });
    await claim(2);
    await engine.taskCancel({ id: cancelMe.id, now: clock.now() });
    clock.advance(30_001);
    expect(await engine.taskRescueExpired({ now: clock.now(), maxRescues: 3, limit: 10 })).toEqual({ retried: [], deadLettered: [spent.id], cancelled: [cancelMe.id] });
  });

  it('leaves alone a task completed before the rescuer reached it', async () => {
    const { engine, clock, insert, claim } = f();
    const task = await insert();
    const [running] = await claim(1);
    clock.advance(30_001);
    expect(await engine.taskComplete({ lease: leaseOf(running!), output: { late: 'but valid' }, now: clock.now() })).toBe(true);
    expect(await engine.taskRescueExpired({ now: clock.now(), maxRescues: 3, limit: 10 })).toEqual({ retried: [], deadLettered: [], cancelled: [] });
    expect(await engine.taskGet({ id: task.id })).toMatchObject({ status: 'completed', output: { late: 'but valid' } });
  });

  it('prunes finished tasks past retention and nothing else', async () => {
    const { engine, clock, insert, claim } = f();
    const old = await insert();
    const [running] = await claim(1);
    await engine.taskComplete({ lease: leaseOf(running!), output: null, now: clock.now() });
    const oldCancelled = await insert();
    await engine.taskCancel({ id: oldCancelled.id, now: clock.now() });
    clock.advance(10_000);
    const recent = await insert();
    await engine.taskCancel({ id: recent.id, now: clock.now() });
    const waiting = await insert({ scheduledAt: new Date(0) });
    expect(await engine.taskPrune({ finishedBefore: new Date(clock.now().getTime() - 5000), limit: 1 })).toBe(1);
    expect(await engine.taskPrune({ finishedBefore: new Date(clock.now().getTime() - 5000), limit: 100 })).toBe(1);
    expect(await engine.taskGet({ id: old.id })).toBeNull();
    expect(await engine.taskGet({ id: oldCancelled.id })).toBeNull();
    expect(await engine.taskGet({ id: recent.id })).not.toBeNull();
    expect(await engine.taskGet({ id: waiting.id })).not.toBeNull();
  });

  it('elects one leader at a time and hands over when the lease lapses or is resigned', async () => {
    const { engine, clock } = f();
    const elect = (leaderId: string) => engine.leaderAttemptElect({ name: 'maintenance', leaderId, now: clock.now(), ttlMs: 10_000 });
    expect(await elect('a')).toBe(true);
    expect(await elect('b')).toBe(false);
    clock.advance(5000);
    expect(await elect('a')).toBe(true); // renews
    clock.advance(9999);
    expect(await elect('b')).toBe(false);
    clock.advance(1);
    expect(await elect('b')).toBe(true);
    expect(await elect('a')).toBe(false);
    await engine.leaderResign({ name: 'maintenance', leaderId: 'b' });
    expect(await elect('a')).toBe(true);
  });

  it("has the leader's rounds delete expired sessions and account tokens, every five minutes, and keep live ones", async () => {
    const { engine, clock } = f();
    await engine.userInsert({ user: { id: ANN, username: 'ann', email: 'ann@example.com', passwordHash: 'h', role: 'user', createdAt: clock.now() } });
    const at = (ms: number) => new Date(clock.now().getTime() + ms);
    const session = (tokenHash: string, ttlMs: number) => ({ tokenHash, userId: ANN, createdAt: clock.now(), expiresAt: at(ttlMs), lastRefreshedAt: null, userAgent: null });
    const invitation = (tokenHash: string, ttlMs: number) => ({ tokenHash, kind: 'invitation' as const, userId: null, role: 'user' as const, createdBy: ANN, createdAt: clock.now(), expiresAt: at(ttlMs), usedAt: null });
    await engine.sessionInsert({ session: session('short', 2 * MINUTE) });
    await engine.sessionInsert({ session: session('long', 60 * MINUTE) });
    await engine.accountTokenInsert({ token: invitation('short-invite', 2 * MINUTE) });
    await engine.accountTokenInsert({ token: invitation('long-invite', 60 * MINUTE) });
    const maintenance = new Maintenance({
      engine,
      clock,
      logger: silentLogger,
      events: new WorkerEventEmitter(),
      workerId: 'leader',
      intervalMs: 15_000,
      maxRescues: 3,
      retentionMs: 0,
      workerStaleMs: 10 * MINUTE,
      quotas: DEFAULT_QUOTA_CONFIG,
    });
    // What a sweep run directly finds left to delete.
    const leftExpired = () => maintenance.credentials.runOnce();
    clock.advance(3 * MINUTE);
    // The leader's first round sweeps (its slow jobs' first turn): nothing expired is left after it.
    expect(await maintenance.runOnce()).toBe(true);
    expect(await leftExpired()).toEqual({ sessions: 0, accountTokens: 0 });
    expect(await engine.sessionGet({ tokenHash: 'long', now: clock.now() })).not.toBeNull();
    expect(await engine.accountTokenGet({ tokenHash: 'long-invite', kind: 'invitation', now: clock.now() })).not.toBeNull();
    // Within five minutes of that sweep, a round leaves a newly expired session for the next one.
    await engine.sessionInsert({ session: session('brief', MINUTE) });
    clock.advance(2 * MINUTE);
    expect(await maintenance.runOnce()).toBe(true);
    expect(await leftExpired()).toEqual({ sessions: 1, accountTokens: 0 });
    await engine.leaderResign({ name: 'maintenance', leaderId: 'leader' });
  });
});
