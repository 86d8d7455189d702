import { expect, it } from 'vitest';
import { DEFAULT_BREAKER_CONFIG } from '../../src/core/circuit-breaker.ts';
import { describeEachEngine } from './engine-fixture.ts';

const config = DEFAULT_BREAKER_CONFIG;

describeEachEngine('circuit breakers, task types, workers', (f) => {
  it('opens a shared breaker after 5 consecutive failures, half-opens after 60 s, closes after 3 successes', async () => {
    const { engine, clock } = f();
    const record = (outcome: 'success' | 'failure') => engine.breakerRecord({ taskType: 'webhook', outcome, now: clock.now(), config });
    expect(await engine.breakerGet({ taskType: 'webhook' })).toBeNull();
    for (let i = 1; i <= 4; i++) expect((await record('failure')).state).toBe('closed');
    const opened = await record('failure');
    expect(opened).toMatchObject({ taskType: 'webhook', state: 'open', consecutiveFailures: 5 });
    expect(opened.reopensAt).toEqual(new Date(clock.now().getTime() + 60_000));
    expect(await engine.breakerGet({ taskType: 'webhook' })).toEqual(opened);
    clock.advance(60_000);
    expect((await record('success')).state).toBe('half_open');
    expect((await record('success')).state).toBe('half_open');
    expect((await record('success')).state).toBe('closed');
    expect((await engine.breakerList()).map((b) => [b.taskType, b.state])).toEqual([['webhook', 'closed']]);
  });

  it('keeps breakers of many writers consistent: concurrent failures are all counted', async () => {
    const { engine, clock } = f();
    await Promise.all(Array.from({ length: 4 }, () => engine.breakerRecord({ taskType: 'email', outcome: 'failure', now: clock.now(), config })));
    expect((await engine.breakerGet({ taskType: 'email' }))!.consecutiveFailures).toBe(4);
  });

  it('resets a breaker by hand', async () => {
    const { engine, clock } = f();
    for (let i = 0; i < 5; i++) await engine.breakerRecord({ taskType: 'email', outcome: 'failure', now: clock.now(), config });
    expect((await engine.breakerReset({ taskType: 'email', now: clock.now() })).state).toBe('closed');
    expect((await engine.breakerGet({ taskType: 'email' }))!).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('registers task types with their payload schemas, updating on re-registration', async () => {
    const { engine, clock } = f();
    const schema = { type: 'object', properties: { to: { type: 'string' } }, required: ['to'] };
    await engine.typeRegister({ type: { name: 'email', description: 'Sends an email', payloadSchema: schema, examples: [{ to: 'a@b.c' }], timeoutMs: 30_000 }, now: clock.now() });
    const created = clock.now();
    clock.advance(1000);
    await engine.typeRegister({ type: { name: 'email', description: 'Sends one email', payloadSchema: schema, examples: [], timeoutMs: 60_000 }, now: clock.now() });
    await engine.typeRegister({ type: { name: 'delay_task', description: 'Sleeps', payloadSchema: null, examples: [], timeoutMs: 1000 }, now: clock.now() });
    const types = await engine.typeList();
    expect(types.map((t) => t.name)).toEqual(['delay_task', 'email']);
    expect(types[1]).toMatchObject({ name: 'email', description: 'Sends one email', payloadSchema: schema, examples: [], timeoutMs: 60_000 });
    expect(types[1]!.createdAt).toEqual(created);
    expect(types[1]!.lastSeenAt).toEqual(clock.now());
  });

  it('records worker heartbeats and removes a worker that stops', async () => {
    const { engine, clock } = f();
    const worker = { id: 'w-1', host: 'box', pid: 123, concurrency: 4, running: 0, taskTypes: ['email'], startedAt: clock.now() };
    await engine.workerHeartbeat({ worker, now: clock.now() });
    clock.advance(5000);
    await engine.workerHeartbeat({ worker: { ...worker, running: 3 }, now: clock.now() });
    expect(await engine.workerList()).toEqual([{ ...worker, running: 3, lastHeartbeatAt: clock.now() }]);
    await engine.workerRemove({ id: 'w-1' });
    expect(await engine.workerList()).toEqual([]);
  });
});
