import { describe, expect, it } from 'vitest';
// Through the package's export path, exactly as a user's test imports it.
import { PermanentTaskError, SnoozeTaskError, Type, defineTask } from 'conveyor-tasks';
import { runTask } from 'conveyor-tasks/testing';

const greet = defineTask({
  name: 'greet',
  description: 'says hello, reporting progress',
  payload: Type.Object({ name: Type.String({ minLength: 1 }), shout: Type.Optional(Type.Boolean()) }),
  async handler(payload, context) {
    await context.progress({ percent: 50 });
    context.logger.info({ name: payload.name }, 'greeting');
    await context.progress({ percent: 100 });
    const text = `hello ${payload.name}`;
    return { text: payload.shout ? text.toUpperCase() : text, attempt: context.attempt, key: context.idempotencyKey };
  },
});

const picky = defineTask({
  name: 'picky',
  description: 'refuses some inputs for good, fails others for now',
  payload: Type.Object({ mode: Type.Union([Type.Literal('permanent'), Type.Literal('retry'), Type.Literal('snooze')]) }),
  async handler(payload) {
    if (payload.mode === 'permanent') throw new PermanentTaskError('will never work');
    if (payload.mode === 'snooze') throw new SnoozeTaskError(30_000, 'not ready');
    throw new Error('try again later');
  },
});

/** Waits for its abort signal, then stops as a good handler does. */
const patient = defineTask({
  name: 'patient',
  description: 'waits until aborted',
  payload: Type.Object({}),
  timeoutMs: 50,
  handler: (_payload, context) =>
    new Promise((_resolve, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason), { once: true })),
});

describe('runTask', () => {
  it('runs the handler with a real context: output, progress and logs are captured', async () => {
    const run = await runTask(greet, { name: 'ada' }, { attempt: 2, idempotencyKey: 'order-7' });
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ text: 'hello ada', attempt: 2, key: 'order-7' });
    expect(run.progress).toEqual([{ percent: 50 }, { percent: 100 }]);
    expect(run.logs).toContainEqual(expect.objectContaining({ level: 'info', msg: 'greeting', name: 'ada', task_type: 'greet', attempt: 2 }));
    expect(run.context.signal.aborted).toBe(false);
    expect(run.error).toBeNull();
  });

  it('checks the payload against the schema first, naming the field, as the worker does', async () => {
    const run = await runTask(greet, { name: '' });
    expect(run.status).toBe('failed');
    expect(run.permanent).toBe(true);
    expect(String(run.error)).toContain('payload.name');
  });

  it('checks string formats such as email with the same validator as the API and the worker', async () => {
    const welcome = defineTask({
      name: 'welcome',
      description: 'greets a new account by email',
      payload: Type.Object({ to: Type.String({ format: 'email' }), since: Type.Optional(Type.String({ format: 'date-time' })) }),
      async handler(payload) {
        return { sent_to: payload.to };
      },
    });
    const run = await runTask(welcome, { to: 'ada@example.com', since: '2026-01-31T12:00:00Z' });
    expect(run).toMatchObject({ status: 'completed', output: { sent_to: 'ada@example.com' } });
    const refused = await runTask(welcome, { to: 'ada' });
    expect(refused).toMatchObject({ status: 'failed', permanent: true, error: expect.objectContaining({ field: 'payload.to', message: 'payload.to: must be an email address' }) });
  });

  it('tells a permanent failure (dead letter) from one the worker would retry, and a snooze', async () => {
    const permanent = await runTask(picky, { mode: 'permanent' });
    expect(permanent).toMatchObject({ status: 'failed', permanent: true });
    expect(permanent.error).toBeInstanceOf(PermanentTaskError);
    const retry = await runTask(picky, { mode: 'retry' });
    expect(retry).toMatchObject({ status: 'failed', permanent: false });
    expect((retry.error as Error).message).toBe('try again later');
    const snoozed = await runTask(picky, { mode: 'snooze' });
    expect(snoozed).toMatchObject({ status: 'snoozed', permanent: false, error: { delayMs: 30_000, message: 'not ready' } });
  });

  it('aborts the handler at its timeout; the attempt fails and would be retried', async () => {
    const run = await runTask(patient, {});
    expect(run.status).toBe('failed');
    expect(run.permanent).toBe(false);
    expect(run.context.signal.aborted).toBe(true);
    expect((run.error as Error).message).toBe('timed out after 50 ms');
  });

  it('a signal from the test cancels the handler', async () => {
    const controller = new AbortController();
    const running = runTask(patient, {}, { timeoutMs: 10_000, signal: controller.signal });
    controller.abort();
    const run = await running;
    expect(run.status).toBe('cancelled');
  });

  it('a handler that ignores its abort is left behind after the grace, as the worker does', async () => {
    const stubborn = defineTask({ name: 'stubborn', description: 'never stops', payload: Type.Object({}), handler: () => new Promise(() => {}) });
    const run = await runTask(stubborn, {}, { timeoutMs: 20, abortGraceMs: 20 });
    expect(run.status).toBe('failed');
    expect((run.error as Error).message).toBe('timed out after 20 ms');
  });

  it('output that is not JSON fails the attempt for good', async () => {
    const dated = defineTask({ name: 'dated', description: 'returns a Date', payload: Type.Object({}), handler: async () => ({ at: new Date() }) as never });
    const run = await runTask(dated, {});
    expect(run).toMatchObject({ status: 'failed', permanent: true, output: null });
    expect(String(run.error)).toContain('output.at');
  });
});
