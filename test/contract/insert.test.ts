import { describe, expect, it } from 'vitest';
import { ConveyorError, ERROR_CODES } from '../../src/core/errors.ts';
import { newTask } from '../../src/core/new-task.ts';
import { DEFAULT_RETRY_STRATEGY } from '../../src/core/retry-strategy.ts';
import { rawRows } from '../helpers/raw-exec.ts';
import { describeEachEngine, leaseOf } from './engine-fixture.ts';

describeEachEngine('insert', (f) => {
  it('stores every field and reads it back unchanged', async () => {
    const { engine, clock } = f();
    const scheduledAt = new Date(clock.now().getTime() + 60_000);
    const task = newTask(
      {
        taskType: 'webhook',
        payload: { url: 'https://example.com', nested: { list: [1, 'two', null, true] }, unicode: 'héllo ✓' },
        priority: 'high',
        scheduledAt,
        retryStrategy: { type: 'Linear', base_delay_ms: 500, increment_ms: 250, max_delay_ms: 5000 },
        maxAttempts: 7,
        metadata: { source: 'test', tags: ['a'] },
      },
      clock.now(),
    );
    const { task: stored, created } = await engine.taskInsert({ task });
    expect(created).toBe(true);
    const read = await engine.taskGet({ id: task.id });
    for (const record of [stored, read]) {
      expect(record).toMatchObject({
        id: task.id,
        taskType: 'webhook',
        payload: task.payload,
        status: 'scheduled',
        priority: 'high',
        maxAttempts: 7,
        currentAttempt: 0,
        retryStrategy: { type: 'linear', base_delay_ms: 500, increment_ms: 250, max_delay_ms: 5000, max_attempts: 7 },
        metadata: { source: 'test', tags: ['a'] },
        lastError: null,
        output: null,
        progress: null,
        attempts: [],
        rescueCount: 0,
        workerId: null,
        leaseExpiresAt: null,
      });
      expect(record!.createdAt).toEqual(clock.now());
      expect(record!.scheduledAt).toEqual(scheduledAt);
      expect(record!.runAt).toEqual(scheduledAt);
    }
  });

  it('makes a task with no schedule pending, due now, with the guide default strategy', async () => {
    const { clock, insert } = f();
    const task = await insert();
    expect(task.status).toBe('pending');
    expect(task.priority).toBe('normal');
    expect(task.runAt).toEqual(clock.now());
    expect(task.scheduledAt).toBeNull();
    expect(task.maxAttempts).toBe(3);
    expect(task.retryStrategy).toEqual(DEFAULT_RETRY_STRATEGY);
  });

  it('stores the default retry strategy as {} (its count is the task\'s) and a chosen one in full; every read gives the whole strategy', async () => {
    const { engine, db, clock, insert, claim } = f();
    const plain = await insert();
    const fiveTries = await insert({ maxAttempts: 5 });
    const fixed = await insert({ retryStrategy: { type: 'fixed', interval_ms: 500 } });
    const stored = async (id: string) => {
      const [row] = await rawRows(db, `SELECT retry_strategy FROM tasks WHERE id = '${id}'`);
      return typeof row!.retry_strategy === 'string' ? JSON.parse(row!.retry_strategy) : row!.retry_strategy;
    };
    expect(await stored(plain.id)).toEqual({});
    expect(await stored(fiveTries.id)).toEqual({});
    expect(await stored(fixed.id)).toEqual({ type: 'fixed', interval_ms: 500, max_attempts: 3, jitter: 0.1 });
    expect((await engine.taskGet({ id: plain.id }))!.retryStrategy).toEqual(DEFAULT_RETRY_STRATEGY);
    expect((await engine.taskGet({ id: fiveTries.id }))!.retryStrategy).toEqual({ ...DEFAULT_RETRY_STRATEGY, max_attempts: 5 });
    expect((await engine.taskGet({ id: fixed.id }))!.retryStrategy).toEqual({ type: 'fixed', interval_ms: 500, max_attempts: 3, jitter: 0.1 });

    // A failure is retried by the default's delays (1 s the first time, less at most its 10 % jitter).
    const [running] = (await claim(3)).filter((task) => task.id === plain.id);
    const failed = await engine.taskFail({ lease: leaseOf(running!), error: 'boom', now: clock.now(), random: () => 0 });
    expect(failed).toMatchObject({ applied: true, status: 'retrying', runAt: new Date(clock.now().getTime() + 2000) });
    // A hand retry of a task whose attempts are spent gives it one more, and {} stays {}.
    const spent = await insert({ maxAttempts: 1 });
    const [once] = (await claim(10)).filter((task) => task.id === spent.id);
    await engine.taskFail({ lease: leaseOf(once!), error: 'boom', now: clock.now() });
    const retried = await engine.taskRetry({ id: spent.id, now: clock.now() });
    expect(retried).toMatchObject({ outcome: 'retried', task: { maxAttempts: 2, retryStrategy: { ...DEFAULT_RETRY_STRATEGY, max_attempts: 2 } } });
    expect(await stored(spent.id)).toEqual({});
  });

  it('returns the existing task for a repeated idempotency key instead of a duplicate', async () => {
    const { engine, clock, insert } = f();
    const first = await insert({ idempotencyKey: 'order-42', payload: { n: 1 } });
    const again = await engine.taskInsert({ task: newTask({ taskType: 'email', payload: { n: 2 }, idempotencyKey: 'order-42' }, clock.now()) });
    expect(again.created).toBe(false);
    expect(again.task.id).toBe(first.id);
    expect(again.task.payload).toEqual({ n: 1 });
    const { total } = await engine.taskList({ limit: 10, withTotal: true });
    expect(total).toBe(1);
  });

  it('inserts many in input order, honouring idempotency keys within and across batches', async () => {
    const { engine, clock, insert } = f();
    const existing = await insert({ idempotencyKey: 'k-existing' });
    const batch = [
      newTask({ taskType: 'email', payload: { i: 0 } }, clock.now()),
      newTask({ taskType: 'email', payload: { i: 1 }, idempotencyKey: 'k-existing' }, clock.now()),
      newTask({ taskType: 'email', payload: { i: 2 }, idempotencyKey: 'k-new' }, clock.now()),
      newTask({ taskType: 'email', payload: { i: 3 }, idempotencyKey: 'k-new' }, clock.now()),
      newTask({ taskType: 'report', payload: { i: 4 }, priority: 'low' }, clock.now()),
    ];
    const results = await engine.taskInsertMany({ tasks: batch });
    expect(results.map((r) => r.created)).toEqual([true, false, true, false, true]);
    expect(results[0]!.task.id).toBe(batch[0]!.id);
    expect(results[1]!.task.id).toBe(existing.id);
    expect(results[3]!.task.id).toBe(results[2]!.task.id);
    expect(results[4]!.task).toMatchObject({ taskType: 'report', priority: 'low', payload: { i: 4 } });
    const { total } = await engine.taskList({ limit: 10, withTotal: true });
    expect(total).toBe(4);
  });

  it('writes a batch of thousands whole, or not at all when any row is refused', async () => {
    const { engine, clock } = f();
    const batch = Array.from({ length: 4500 }, (_, i) => newTask({ taskType: 'email', payload: { i } }, clock.now()));
    expect((await engine.taskInsertMany({ tasks: batch })).every((r) => r.created)).toBe(true);
    expect((await engine.taskList({ limit: 1, withTotal: true })).total).toBe(4500);
    expect((await engine.taskGet({ id: batch[4499]!.id }))!.payload).toEqual({ i: 4499 });
    // The database refuses the last row (its id is taken): none of the 4,500 before it stays.
    const refused = Array.from({ length: 4500 }, (_, i) => newTask({ taskType: 'email', payload: { again: i } }, clock.now()));
    refused[4499] = { ...refused[4499]!, id: batch[0]!.id };
    await expect(engine.taskInsertMany({ tasks: refused })).rejects.toBeInstanceOf(ConveyorError);
    expect((await engine.taskList({ limit: 1, withTotal: true })).total).toBe(4500);
  });

  it('stores every field of a mixed batch exactly as the returned records say', async () => {
    const { engine, clock } = f();
    const user = await engine.userInsert({ user: { id: '01890000-0000-7000-8000-000000000001', username: 'ada', email: 'ada@example.com', passwordHash: 'x', role: 'user', createdAt: clock.now() } });
    const at = (ms: number) => new Date(clock.now().getTime() + ms);
    const batch = [
      newTask({ taskType: 'email', payload: { plain: true } }, clock.now()),
      newTask({ taskType: 'webhook', payload: [1, 'two', null], priority: 'critical', metadata: { m: 'x' }, createdBy: user.id }, clock.now()),
      newTask({ taskType: 'report', payload: 'text', scheduledAt: at(60_000), retryStrategy: { type: 'fixed', interval_ms: 10 }, maxAttempts: 9 }, clock.now()),
      newTask({ taskType: 'email', payload: { past: true }, scheduledAt: at(-5000), idempotencyKey: 'mixed "key" ✓' }, clock.now()),
      // Made a moment later than the rest: its own creation time.
      newTask({ taskType: 'email', payload: { later: true }, priority: 'low', metadata: {} }, at(1234)),
    ];
    const results = await engine.taskInsertMany({ tasks: batch });
    expect(results.every((r) => r.created)).toBe(true);
    for (const { task } of results) expect(await engine.taskGet({ id: task.id })).toEqual(task);
    expect(results[2]!.task).toMatchObject({ status: 'scheduled', runAt: at(60_000), maxAttempts: 9, retryStrategy: { type: 'fixed', interval_ms: 10, max_attempts: 9 } });
    expect(results[3]!.task).toMatchObject({ status: 'pending', runAt: at(-5000), idempotencyKey: 'mixed "key" ✓' });
    expect(results[4]!.task).toMatchObject({ createdAt: at(1234), runAt: at(1234), priority: 'low' });
    expect(results[1]!.task).toMatchObject({ createdBy: user.id, metadata: { m: 'x' }, retryStrategy: DEFAULT_RETRY_STRATEGY });
  });

  it('inserts a large batch in one call', async () => {
    const { engine, insertMany } = f();
    const tasks = await insertMany(5000);
    expect(new Set(tasks.map((t) => t.id)).size).toBe(5000);
    expect((await engine.taskStats({ now: new Date() })).byStatus.pending).toBe(5000);
  });
});

describe('task input validation (library)', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const cases: [string, Record<string, unknown>, string][] = [
    ['unknown priority', { priority: 'urgent' }, 'priority'],
    ['negative attempts', { maxAttempts: -1 }, 'max_attempts'],
    ['fractional attempts', { maxAttempts: 1.5 }, 'max_attempts'],
    ['a payload that is not JSON (function)', { payload: { f: () => 1 } }, 'payload.f'],
    ['a payload that is not JSON (NaN)', { payload: [1, Number.NaN] }, 'payload[1]'],
    ['a payload that is not JSON (BigInt)', { payload: { big: 10n } }, 'payload.big'],
    ['a payload that is not JSON (Date)', { payload: { when: new Date() } }, 'payload.when'],
    ['a missing payload', { payload: undefined }, 'payload'],
    ['an unknown strategy', { retryStrategy: { type: 'fibonacci' } }, 'retry_strategy.type'],
    ['a strategy with an unknown field', { retryStrategy: { type: 'fixed', interval_ms: 10, bogus: 1 } }, 'retry_strategy.bogus'],
    ['a strategy multiplier below 1', { retryStrategy: { type: 'exponential', multiplier: 0.5 } }, 'retry_strategy.multiplier'],
    ['attempts disagreeing with the strategy', { maxAttempts: 4, retryStrategy: { type: 'fixed', max_attempts: 2 } }, 'max_attempts'],
    ['a bad task type', { taskType: 'has space' }, 'task_type'],
    ['metadata that is not an object', { metadata: [1, 2] }, 'metadata'],
    ['an unparseable schedule', { scheduledAt: 'tomorrow' }, 'scheduled_at'],
  ];
  it.each(cases)('refuses %s with a catalogued error naming the field', (_name, override, field) => {
    const input = { taskType: 'email', payload: { ok: true }, ...override } as never;
    let error: unknown;
    try {
      newTask(input, now);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConveyorError);
    expect((error as ConveyorError).code).toBe(ERROR_CODES.VALIDATION);
    expect((error as ConveyorError).field).toBe(field);
  });

  it('refuses a payload over 1 MB', () => {
    expect(() => newTask({ taskType: 'email', payload: { blob: 'x'.repeat(1024 * 1024) } }, now)).toThrow(/payload: must be at most 1MB/);
  });
});
