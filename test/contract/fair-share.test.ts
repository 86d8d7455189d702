import { expect, it } from 'vitest';
import type { Engine } from '../../src/store/engine.ts';
import type { ManualClock } from '../../src/core/clock.ts';
import { describeEachEngine, leaseOf, TEST_TYPES, type Claimed } from './engine-fixture.ts';

const ANN = '01900000-0000-7000-8000-00000000000a';
const BOB = '01900000-0000-7000-8000-00000000000b';

async function addUsers(engine: Engine, clock: ManualClock, ...ids: string[]): Promise<void> {
  for (const id of ids) {
    await engine.userInsert({ user: { id, username: `u${id.slice(-2)}`, email: `u${id.slice(-2)}@example.com`, passwordHash: 'h', role: 'user', createdAt: clock.now() } });
  }
}

describeEachEngine('fair shares between owners', (f) => {
  const fairClaim = (engine: Engine, clock: ManualClock, limit: number, workerId = 'worker-a', fairShare = 0.5) =>
    engine.taskClaim({ workerId, taskTypes: TEST_TYPES, limit, now: clock.now(), leaseMs: 30_000, fairShare }).then((tasks) => tasks.map((t): Claimed => ({ ...t, workerId })));

  it('one owner: the claim is the plain one, in queue order', async () => {
    const { engine, clock, insertMany } = f();
    await addUsers(engine, clock, ANN);
    // Created in one millisecond: queue order is id order.
    const tasks = (await insertMany(6, { createdBy: ANN })).sort((a, b) => (a.id < b.id ? -1 : 1));
    expect((await fairClaim(engine, clock, 4)).map((t) => t.id)).toEqual(tasks.slice(0, 4).map((t) => t.id));
    expect((await fairClaim(engine, clock, 4)).map((t) => t.id)).toEqual(tasks.slice(4).map((t) => t.id));
  });

  it('owners waiting at the same priority alternate, whoever was first in line; nobody\'s tasks are a group of their own', async () => {
    const { engine, clock, insertMany } = f();
    await addUsers(engine, clock, ANN, BOB);
    await insertMany(20, { createdBy: ANN });
    clock.advance(1);
    await insertMany(3, { createdBy: BOB });
    clock.advance(1);
    await insertMany(3, { createdBy: null });
    const claimed = await fairClaim(engine, clock, 6);
    const owners = claimed.map((t) => t.createdBy ?? 'nobody');
    expect(owners.filter((o) => o === ANN)).toHaveLength(2);
    expect(owners.filter((o) => o === BOB)).toHaveLength(2);
    expect(owners.filter((o) => o === 'nobody')).toHaveLength(2);
    // Without fair shares the same queue gives the first owner everything.
    const plain = await engine.taskClaim({ workerId: 'worker-b', taskTypes: TEST_TYPES, limit: 6, now: clock.now(), leaseMs: 30_000 });
    expect(plain.every((t) => t.createdBy === ANN)).toBe(true);
  });

  it('an owner over its share comes after an owner under it, on every claimer; nothing is held back when only it waits', async () => {
    const { engine, clock, insertMany } = f();
    await addUsers(engine, clock, ANN, BOB);
    await insertMany(30, { createdBy: ANN });
    // Ann holds 8 slots on two workers before Bob arrives.
    expect(await fairClaim(engine, clock, 4, 'worker-a')).toHaveLength(4);
    expect(await fairClaim(engine, clock, 4, 'worker-b')).toHaveLength(4);
    clock.advance(1);
    await insertMany(10, { createdBy: BOB });
    // Running 8, this claim 4: cap 6. Bob first, up to the claim.
    expect((await fairClaim(engine, clock, 4, 'worker-c')).map((t) => t.createdBy)).toEqual([BOB, BOB, BOB, BOB]);
    // Running Ann 8, Bob 4; cap floor(0.5 × 16) = 8: Bob, up to 8, still first.
    expect((await fairClaim(engine, clock, 4, 'worker-d')).map((t) => t.createdBy)).toEqual([BOB, BOB, BOB, BOB]);
    // Ann 8, Bob 8, cap 9: one each, the earlier waiting first.
    expect((await fairClaim(engine, clock, 2, 'worker-e')).map((t) => t.createdBy).sort()).toEqual([ANN, BOB].sort());
    // Bob's last goes before Ann (9 against 10 held); then only Ann waits: she gets the rest, the claim is full.
    expect((await fairClaim(engine, clock, 4, 'worker-f')).map((t) => t.createdBy).sort()).toEqual([ANN, ANN, ANN, BOB].sort());
    expect((await fairClaim(engine, clock, 4, 'worker-g')).map((t) => t.createdBy)).toEqual([ANN, ANN, ANN, ANN]);
  });

  it('priority stays strict: a more urgent task of the owner over its share goes first', async () => {
    const { engine, clock, insertMany } = f();
    await addUsers(engine, clock, ANN, BOB);
    await insertMany(10, { createdBy: ANN, priority: 'critical' });
    await insertMany(10, { createdBy: BOB, priority: 'normal' });
    expect((await fairClaim(engine, clock, 4)).map((t) => t.createdBy)).toEqual([ANN, ANN, ANN, ANN]);
  });

  it('on the fair path too, only the tasks given to free slots count as started', async () => {
    const { engine, clock, insertMany } = f();
    await addUsers(engine, clock, ANN, BOB);
    await insertMany(5, { createdBy: ANN });
    await insertMany(5, { createdBy: BOB });
    const claimed = await engine.taskClaim({ workerId: 'worker-a', taskTypes: TEST_TYPES, limit: 4, now: clock.now(), leaseMs: 30_000, startNow: 2, fairShare: 0.5 });
    expect(claimed).toHaveLength(4);
    expect(claimed.filter((t) => t.startRecorded)).toHaveLength(2);
  });

  it('refuses a share outside (0, 1], naming the field', async () => {
    const { engine, clock } = f();
    for (const fairShare of [0, -0.5, 1.5, Number.NaN]) {
      await expect(fairClaim(engine, clock, 1, 'worker-a', fairShare)).rejects.toMatchObject({ code: 'CONVEYOR_VALIDATION', field: 'fair_share' });
    }
  });

  it('keeps type limits on the fair path', async () => {
    const { engine, clock, insertMany } = f();
    await addUsers(engine, clock, ANN, BOB);
    await engine.typeLimitSet({ taskType: 'email', maxRunning: 2, now: clock.now(), by: null });
    await insertMany(5, { createdBy: ANN, taskType: 'email' });
    await insertMany(5, { createdBy: BOB, taskType: 'email' });
    await insertMany(2, { createdBy: BOB, taskType: 'report' });
    const claimed = await fairClaim(engine, clock, 10);
    expect(claimed.filter((t) => t.taskType === 'email')).toHaveLength(2);
    expect(claimed.filter((t) => t.taskType === 'report')).toHaveLength(2);
    expect(claimed.filter((t) => t.taskType === 'email').every((t) => t.limited === true)).toBe(true);
    expect(await fairClaim(engine, clock, 10, 'worker-b')).toEqual([]);
  });

  it('two owners on three workers: A has 2,000 one-second critical tasks queued, B adds 10; B starts within one task duration and finishes long before A', async () => {
    const { engine, clock, insertMany } = f();
    await addUsers(engine, clock, ANN, BOB);
    const DURATION_MS = 1000;
    const CONCURRENCY = 4;
    const workers = ['worker-1', 'worker-2', 'worker-3'];
    for (let i = 0; i < 2000; i += 500) await insertMany(500, { createdBy: ANN, priority: 'critical' });
    // Each worker fills its slots; each task runs one DURATION_MS of the manual clock.
    let running: Claimed[] = [];
    const fill = async () => {
      for (const worker of workers) {
        const free = CONCURRENCY - running.filter((t) => t.workerId === worker).length;
        if (free > 0) running.push(...(await fairClaim(engine, clock, free, worker)));
      }
    };
    await fill();
    expect(running).toHaveLength(12);
    clock.advance(DURATION_MS / 2);
    const bobAddedAt = clock.nowMs();
    await insertMany(10, { createdBy: BOB, priority: 'critical' });
    let bobFirstStart: number | null = null;
    let bobDone = 0;
    let annDone = 0;
    while (bobDone < 10) {
      // The batch that started together ends together, one duration after it started.
      clock.advance(DURATION_MS / 2);
      for (const task of running) {
        expect(await engine.taskComplete({ lease: leaseOf(task), output: null, now: clock.now() })).toBe(true);
        if (task.createdBy === BOB) bobDone += 1;
        else annDone += 1;
      }
      running = [];
      await fill();
      if (bobFirstStart === null && running.some((t) => t.createdBy === BOB)) bobFirstStart = clock.nowMs();
      clock.advance(DURATION_MS / 2);
      expect(clock.nowMs() - bobAddedAt).toBeLessThan(10 * DURATION_MS);
    }
    expect(bobFirstStart! - bobAddedAt).toBeLessThanOrEqual(DURATION_MS);
    // Bob's 10 are done while most of Ann's backlog still waits.
    expect(annDone).toBeLessThan(100);
  });
});
