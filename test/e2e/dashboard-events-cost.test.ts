import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { resolveApiConfig } from '../../src/api/api-config.ts';
import type { ApiContext } from '../../src/api/api-context.ts';
import { TaskEventHub } from '../../src/api/task-event-hub.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { uuidv7 } from '../../src/core/id.ts';
import { newTask } from '../../src/core/new-task.ts';
import type { Engine, UserRole } from '../../src/store/engine.ts';
import { createEngine } from '../helpers/create-engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { eventViewer, type EventViewer } from '../helpers/event-viewer.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * What an open dashboard costs the database: the live hub refreshes on the engines' notifications, so
 * with nothing changing it reads only on its heartbeat and for the session checks, whatever the number
 * of viewers (role user included), counted through the dispatch layer's call observer while a
 * ManualClock stands in for two minutes.
 */
describe.each(testDatabases)('live event hub cost [$kind]', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  let hub: TaskEventHub;
  let clock: ManualClock;

  beforeEach(async () => {
    db = create();
    engine = createEngine(db.url);
    await engine.migrate();
    clock = new ManualClock(new Date());
  });
  afterEach(async () => {
    hub?.close();
    await engine?.close();
    await db?.drop();
  });

  const viewer = (role: UserRole, userId?: string) => eventViewer(engine, { role, now: clock.now(), ...(userId ? { userId } : {}) });

  /** Six streams: an admin, a moderator, and four of role user (two of them the same user's tabs). */
  async function watchers(): Promise<EventViewer[]> {
    const alice = await viewer('user');
    const viewers = [await viewer('admin'), await viewer('moderator'), alice, await viewer('user', alice.user.id), await viewer('user'), await viewer('user')];
    for (const v of viewers) {
      hub.admit(v.sink.user);
      hub.open(v.sink);
    }
    await waitFor(() => viewers.every((v) => v.events.some((e) => e.event === 'stats')), { message: 'the baseline stats' });
    await hub.settled();
    return viewers;
  }

  function countCalls(): { calls: Map<string, number>; stop: () => void; total: () => number } {
    const calls = new Map<string, number>();
    const stop = engine.observeCalls((call) => calls.set(call.method, (calls.get(call.method) ?? 0) + 1));
    return { calls, stop, total: () => [...calls.values()].reduce((a, b) => a + b, 0) };
  }

  test('with nothing changing, six viewers cost the heartbeat and the session checks: under 2 statements a second', async () => {
    // Some history, written and closed by another engine first, so its change notifications are all out.
    const writer = createEngine(db.url);
    const someone = (await writer.userInsert({ user: { id: uuidv7(), username: 'writer', email: 'writer@example.com', passwordHash: 'x', role: 'user', createdAt: clock.now() } })).id;
    for (let i = 0; i < 5; i++) {
      const { task } = await writer.taskInsert({ task: newTask({ taskType: 'report', payload: {}, createdBy: someone }, clock.now()) });
      if (i % 2 === 0) await writer.taskCancel({ id: task.id, now: clock.now() });
    }
    await writer.close();

    const ctx = { engine, clock, logger: silentLogger, config: resolveApiConfig() } as unknown as ApiContext;
    hub = new TaskEventHub(ctx); // the defaults: 1 s coalescing, a 15 s heartbeat, a session check a second
    const viewers = await watchers();
    const counter = countCalls();
    const windowMs = 120_000;
    for (let elapsed = 0; elapsed < windowMs; elapsed += 500) {
      clock.advance(500);
      await hub.settled();
    }
    counter.stop();

    const perSecond = counter.total() / (windowMs / 1000);
    expect(perSecond, JSON.stringify(Object.fromEntries(counter.calls))).toBeLessThanOrEqual(2);
    // One shared stats read per heartbeat: the role-user viewers add none while nothing moves.
    expect(counter.calls.get('taskStats')).toBeLessThanOrEqual(windowMs / 15_000);
    // Sessions (and roles): one query a second for all streams, none per stream.
    expect(counter.calls.get('sessionGet') ?? 0).toBe(0);
    expect(counter.calls.get('sessionLiveRoles')).toBeLessThanOrEqual(windowMs / 1000 + 1);
    // Nothing changed, so nothing was pushed but the keep-alives.
    expect(viewers.flatMap((v) => v.events).filter((e) => e.event === 'tasks')).toEqual([]);
  });

  test('a task finished by another engine reaches the open streams through its change notification, coalesced', async () => {
    const ctx = { engine, clock, logger: silentLogger, config: resolveApiConfig() } as unknown as ApiContext;
    hub = new TaskEventHub(ctx, { heartbeatMs: 3_600_000 }); // no heartbeat: only a notification can bring it
    const viewers = await watchers();
    const [admin, , alice] = viewers as [EventViewer, EventViewer, EventViewer];

    // Another engine on the same database plays the worker: insert, claim, complete.
    const worker = createEngine(db.url);
    try {
      const { task } = await worker.taskInsert({ task: newTask({ taskType: 'report', payload: {}, createdBy: alice.user.id }, clock.now()) });
      const [claimed] = await worker.taskClaim({ workerId: 'w1', taskTypes: ['report'], limit: 1, now: clock.now(), leaseMs: 60_000 });
      expect(claimed?.id).toBe(task.id);
      expect(await worker.taskComplete({ lease: { id: task.id, attempt: claimed!.currentAttempt, workerId: 'w1' }, output: null, now: clock.now() })).toBe(true);

      const counter = countCalls();
      const started = clock.nowMs();
      const sawCompleted = (v: EventViewer) => v.events.some((e) => e.event === 'tasks' && e.data.tasks.some((t: any) => t.id === task.id && t.status === 'completed'));
      // The hub refreshes at most once per second of its clock, however many notifications came.
      await waitFor(async () => {
        clock.advance(250);
        await hub.settled();
        return sawCompleted(admin) && sawCompleted(alice);
      }, { message: 'the completion to reach the admin and its owner' });
      counter.stop();
      expect(viewers[4]!.events.some((e) => e.event === 'tasks')).toBe(false); // another user's task
      const refreshes = counter.calls.get('workerList') ?? 0;
      expect(refreshes).toBeLessThanOrEqual(Math.floor((clock.nowMs() - started) / 1000) + 1);
      expect(alice.events.filter((e) => e.event === 'stats').at(-1)?.data).toMatchObject({ scope: 'own', completed: 1 });
    } finally {
      await worker.close();
    }
  });
});
