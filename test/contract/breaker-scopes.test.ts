import { expect, it } from 'vitest';
import { DEFAULT_BREAKER_CONFIG } from '../../src/core/circuit-breaker.ts';
import { newTask } from '../../src/core/new-task.ts';
import { describeEachEngine } from './engine-fixture.ts';

const hook = (url: string) => ({ taskType: 'webhook', payload: { url, method: 'POST', payload: {} } });

describeEachEngine('breaker scopes', (f) => {
  const openScope = async (scope: string | null, taskType = 'webhook') => {
    const { engine, clock } = f();
    let state;
    for (let i = 0; i < DEFAULT_BREAKER_CONFIG.failureThreshold; i++) {
      state = await engine.breakerRecord({ taskType, scope, outcome: 'failure', now: clock.now(), config: DEFAULT_BREAKER_CONFIG });
    }
    return state!;
  };

  it("stores a webhook's destination host with the task, on every insert path, and gives it back with the claim", async () => {
    const { engine, clock, insert, claim } = f();
    const one = await insert(hook('https://API.Example.com/hooks/a'));
    const [many] = await engine.taskInsertMany({ tasks: [newTask(hook('http://127.0.0.1:8080/x'), clock.now()), newTask({ taskType: 'email', payload: {} }, clock.now())] });
    const plain = await insert({ taskType: 'email' });
    const claimed = new Map((await claim(10)).map((task) => [task.id, task.breakerScope]));
    expect(claimed.get(one.id)).toBe('api.example.com');
    expect(claimed.get(many!.task.id)).toBe('127.0.0.1:8080');
    expect(claimed.get(plain.id)).toBeNull();
  });

  it("an open host's breaker holds back only the webhooks to that host; other hosts and types are claimed", async () => {
    const { engine, clock, insert, claim } = f();
    const down = await insert(hook('https://down.example.com/a'));
    const up = await insert(hook('https://up.example.com/a'));
    const email = await insert({ taskType: 'email' });
    const opened = await openScope('down.example.com');
    expect(opened).toMatchObject({ taskType: 'webhook', scope: 'down.example.com', state: 'open' });
    // The type's own breaker saw none of it.
    expect(await engine.breakerGet({ taskType: 'webhook' })).toBeNull();
    expect((await claim(10)).map((t) => t.id).sort()).toEqual([up.id, email.id].sort());
    clock.advance(DEFAULT_BREAKER_CONFIG.openMs);
    expect((await claim(10)).map((t) => t.id)).toEqual([down.id]);
    // Waiting behind an open breaker spent no attempt.
    expect((await engine.taskGet({ id: down.id }))!.currentAttempt).toBe(1);
  });

  it("a type's own breaker still holds back all of its tasks, whatever their scope", async () => {
    const { insert, claim } = f();
    await insert(hook('https://a.example.com/a'));
    const email = await insert({ taskType: 'email' });
    await openScope(null);
    expect((await claim(10)).map((t) => t.id)).toEqual([email.id]);
  });

  it('an open scope holds back its tasks in a claim of types with a concurrency limit too', async () => {
    const { engine, clock, insert, claim } = f();
    await engine.typeLimitSet({ taskType: 'webhook', maxRunning: 5, now: clock.now(), by: null });
    await insert(hook('https://down.example.com/a'));
    const up = await insert(hook('https://up.example.com/a'));
    await openScope('down.example.com');
    expect((await claim(10)).map((t) => t.id)).toEqual([up.id]);
  });

  it('lists, gets and resets scoped breakers apart from the type', async () => {
    const { engine, clock } = f();
    await openScope('down.example.com');
    await openScope(null, 'email');
    const listed = await engine.breakerList();
    expect(listed.map((b) => [b.taskType, b.scope, b.state])).toEqual([
      ['email', null, 'open'],
      ['webhook', 'down.example.com', 'open'],
    ]);
    const reset = await engine.breakerReset({ taskType: 'webhook', scope: 'down.example.com', now: clock.now() });
    expect(reset).toMatchObject({ taskType: 'webhook', scope: 'down.example.com', state: 'closed' });
    expect((await engine.breakerGet({ taskType: 'email' }))!.state).toBe('open');
  });
});
