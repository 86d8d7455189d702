import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { resolveApiConfig } from '../../src/api/api-config.ts';
import type { ApiContext } from '../../src/api/api-context.ts';
import { TaskEventHub } from '../../src/api/task-event-hub.ts';
import { systemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { newTask } from '../../src/core/new-task.ts';
import { createEngine } from '../helpers/create-engine.ts';
import type { Engine, UserRole } from '../../src/store/engine.ts';
import { testDatabases, type TestDatabase } from '../helpers/databases.ts';
import { eventViewer, type EventViewer } from '../helpers/event-viewer.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startApi } from '../api/api-harness.ts';

/**
 * The dashboard's live stream (GET /events) below HTTP: one hub woken by a real engine's notifications,
 * pushing to each viewer only what that viewer may see, and ending streams whose session ended.
 */
describe.each(testDatabases)('live event hub [$kind]', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  let hub: TaskEventHub;

  beforeEach(async () => {
    db = create();
    engine = createEngine(db.url);
    await engine.migrate();
    const ctx = { engine, clock: systemClock, logger: silentLogger, config: resolveApiConfig() } as unknown as ApiContext;
    // No heartbeat within a test's time: every change below reaches the viewers through the engine's notifications.
    hub = new TaskEventHub(ctx, { refreshMs: 50, heartbeatMs: 3_600_000, liveSessionsMs: 100, maxStreamsPerUser: 3 });
  });
  afterEach(async () => {
    hub?.close();
    await engine?.close();
    await db?.drop();
  });

  const viewer = (role: UserRole) => eventViewer(engine, { role, now: new Date() });

  const taskEvents = (v: EventViewer) => v.events.filter((e) => e.event === 'tasks').map((e) => e.data);
  const sawTask = (v: EventViewer, id: string, status?: string) => taskEvents(v).some((d) => d.tasks.some((t: any) => t.id === id && (!status || t.status === status)));
  const insert = async (createdBy: string) => (await engine.taskInsert({ task: newTask({ taskType: 'report', payload: {}, createdBy }, new Date()) })).task;

  test('each viewer gets its own scope: users their own tasks and stats, moderators everything', async () => {
    const alice = await viewer('user');
    const bob = await viewer('user');
    const mod = await viewer('moderator');
    for (const v of [alice, bob, mod]) {
      hub.admit(v.user);
      hub.open(v.sink);
    }
    expect(alice.events[0]).toEqual({ event: 'hello', data: expect.objectContaining({ user_id: alice.user.id, role: 'user', scope: 'own' }) });
    expect(mod.events[0]?.data.scope).toBe('all');
    // The first refresh is the baseline and brings everyone their stats.
    await waitFor(() => [alice, bob, mod].every((v) => v.events.some((e) => e.event === 'stats')), { message: 'first stats' });

    const task = await insert(alice.user.id);
    await waitFor(() => sawTask(mod, task.id) && sawTask(alice, task.id), { message: 'the new task to reach alice and the moderator' });
    // The same refresh served bob: he saw nothing of it.
    expect(sawTask(bob, task.id)).toBe(false);

    // A change and then a deletion reach the owner, never bob.
    await engine.taskCancel({ id: task.id, now: new Date() });
    await waitFor(() => sawTask(alice, task.id, 'cancelled'), { message: 'the cancellation' });
    await engine.taskDelete({ id: task.id });
    await waitFor(() => taskEvents(alice).some((d) => d.deleted.includes(task.id)) && taskEvents(mod).some((d) => d.deleted.includes(task.id)), { message: 'the deletion' });
    expect(taskEvents(bob).flatMap((d) => [...d.tasks.map((t: any) => t.id), ...d.deleted])).not.toContain(task.id);

    // Stats follow the scope: bob's own count never moved; the moderator counted alice's task.
    await insert(alice.user.id);
    await waitFor(() => mod.events.some((e) => e.event === 'stats' && e.data.total === 1 && e.data.scope === 'all'), { message: 'the moderator\'s stats' });
    await waitFor(() => alice.events.some((e) => e.event === 'stats' && e.data.total === 1 && e.data.scope === 'own'), { message: 'alice\'s stats' });
    expect(bob.events.filter((e) => e.event === 'stats').every((e) => e.data.total === 0 && e.data.scope === 'own')).toBe(true);
    expect(hub.streams).toBe(3);
  });

  test('a changed role reaches an open stream: a user made moderator sees every task from then on', async () => {
    const alice = await viewer('user');
    const bob = await viewer('user');
    hub.open(alice.sink);
    await waitFor(() => alice.events.some((e) => e.event === 'stats'), { message: 'first stats' });
    const bobs = await insert(bob.user.id);
    await engine.userUpdate({ id: alice.user.id, changes: { role: 'moderator' }, now: new Date() });
    await waitFor(() => alice.events.some((e) => e.event === 'stats' && e.data.scope === 'all' && e.data.total === 1), { message: 'stats of every task' });
    const later = await insert(bob.user.id);
    await waitFor(() => sawTask(alice, later.id), { message: "bob's next task to reach alice" });
    expect(bobs.createdBy).toBe(bob.user.id);
  });

  test('a stream ends when its session is logged out; each user may hold only a few', async () => {
    const alice = await viewer('user');
    hub.open(alice.sink);
    await engine.sessionDelete({ tokenHash: alice.sessionHash });
    await waitFor(() => alice.ended, { message: 'the stream to end' });
    expect(alice.events.at(-1)?.event).toBe('session_ended');
    expect(hub.streams).toBe(0);

    const bob = await viewer('user');
    for (let i = 0; i < 3; i++) {
      hub.admit(bob.user);
      hub.open({ ...bob.sink });
    }
    expect(() => hub.admit(bob.user)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    // Shutting down ends every stream, so the server's close does not wait on them.
    hub.close();
    expect(hub.streams).toBe(0);
    expect(bob.ended).toBe(true);
    expect(() => hub.admit(bob.user)).toThrow(expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }));
  });

  test('over HTTP: GET /events streams to a bearer token, releases a closed stream, and refuses the 11th open one', async () => {
    const api = await startApi(db);
    db = undefined as unknown as TestDatabase; // closed by the API harness
    try {
      const { token } = await api.account('user');
      const open = async () => {
        const controller = new AbortController();
        const response = await fetch(`${api.url}/api/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
        return { response, controller };
      };
      // Streams that the client closed are released: far more than ten in a row all open.
      for (let i = 0; i < 12; i++) {
        const { response, controller } = await open();
        expect(response.status).toBe(200);
        const reader = response.body!.getReader();
        const first = new TextDecoder().decode((await reader.read()).value);
        expect(first).toContain('retry: 3000');
        controller.abort();
        await reader.closed.catch(() => {});
      }
      const held = [];
      for (let i = 0; i < 10; i++) {
        // Each may briefly still count the previous round's streams; wait for their release.
        held.push(await waitFor(async () => {
          const attempt = await open();
          if (attempt.response.status === 200) return attempt;
          attempt.controller.abort();
          return undefined;
        }, { message: 'a stream slot' }));
      }
      const refused = await api.call('GET', '/events', { token });
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('RATE_LIMITED');
      for (const h of held) h.controller.abort();
    } finally {
      await api.close();
    }
  });
});
