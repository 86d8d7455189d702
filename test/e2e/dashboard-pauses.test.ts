import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { PASSWORD, screenshot, signIn, startRig, taskTypeRow, taskTypeState, type DashboardRig } from './dashboard-harness.ts';

// Browser globals, for the functions that run in the page (the project's TypeScript has no DOM library).
declare const document: any;

/**
 * Pausing and resuming a task type from the overview, in Chromium against the real API, a real
 * `conveyor work` process and a real database (both engines): what a moderator does, what the worker
 * then does (or does not), and what a plain user sees. The screenshot is taken on the SQLite run.
 */
describe.each(testDatabases)('dashboard task type pauses [$kind]', ({ kind, create }) => {
  let rig: DashboardRig;
  let mod: { id: string; token: string };
  let plain: { id: string; token: string };
  const shots = kind === 'sqlite';
  const reason = 'Mail relay maintenance until 14:00';

  beforeAll(async () => {
    rig = await startRig(create());
    mod = await rig.account('mona', 'moderator');
    plain = await rig.account('paul');
  });
  afterAll(async () => rig?.close());

  const typeRow = taskTypeRow;
  const typeState = (taskType: string) => taskTypeState(rig, plain.token, taskType);
  const status = async (id: string) => (await rig.call('GET', `/tasks/${id}`, mod.token)).body.data.status;

  test('a moderator pauses delay_task with a reason, its tasks wait while others run, and Resume lets them run', async () => {
    const user = await rig.page();
    const moderator = await rig.page();
    try {
      // The plain user watches the overview throughout: the pause reaches them live.
      await signIn(user.page, rig.url, 'paul', PASSWORD);
      await user.page.locator('.live-live').waitFor();
      const seen = typeRow(user.page, 'delay_task');
      await seen.waitFor();
      expect(await seen.getByText('paused', { exact: true }).count()).toBe(0);

      await signIn(moderator.page, rig.url, 'mona', PASSWORD);
      const page = moderator.page;
      await page.getByRole('heading', { level: 2, name: 'Task types' }).waitFor();
      const row = typeRow(page, 'delay_task');
      const pauseButton = row.getByRole('button', { name: 'Pause', exact: true });

      // Pausing asks for a reason in place; Escape goes back without pausing.
      await pauseButton.click();
      const reasonField = row.getByLabel('Reason');
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('pause-reason-delay_task');
      await page.keyboard.press('Escape');
      await expect.poll(() => reasonField.count()).toBe(0);
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Pause');
      expect((await typeState('delay_task')).paused).toBe(false);

      await pauseButton.click();
      await reasonField.fill(reason);
      await row.getByRole('button', { name: 'Pause delay_task' }).click();
      await page.locator('.toast').getByText('delay_task is paused').waitFor();
      await row.getByText('paused', { exact: true }).waitFor();
      await row.getByText(reason).waitFor();
      await row.getByText(/^since /).waitFor();
      // Focus lands on the way back.
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Resume');
      const paused = await typeState('delay_task');
      expect(paused).toMatchObject({ paused: true, paused_reason: reason, paused_at: expect.any(String) });
      expect((await typeState('email')).paused).toBe(false);

      // The user sees it without a reload, and has no buttons for it.
      await seen.getByText('paused', { exact: true }).waitFor();
      await seen.getByText(reason).waitFor();
      expect(await seen.getByRole('button').count()).toBe(0);
      expect(await user.page.getByRole('button', { name: /^(Pause|Resume)/ }).count()).toBe(0);

      // The worker passes the paused type by: a high-priority delay_task created first still waits after
      // a normal email created after it has run to the end.
      const waiting = await rig.call('POST', '/tasks', mod.token, { task_type: 'delay_task', payload: { delay_ms: 0 }, priority: 'high' });
      expect(waiting.status).toBe(201);
      const flowing = await rig.call('POST', '/tasks', mod.token, { task_type: 'email', payload: { to: 'ops@example.com', subject: 'Still flowing', body: 'Hi' } });
      expect(flowing.status).toBe(201);
      await rig.waitForTask(mod.token, flowing.body.data.id, (t) => t.status === 'completed', 'the email to complete while delay_task is paused');
      const held = (await rig.call('GET', `/tasks/${waiting.body.data.id}`, mod.token)).body.data;
      expect(held).toMatchObject({ status: 'pending', attempts: [] });

      // The New task page says so for that type.
      await page.getByRole('link', { name: 'New task' }).click();
      await page.getByRole('heading', { level: 1, name: 'New task' }).waitFor();
      await page.getByLabel('Task type').selectOption('delay_task');
      await page.getByText(`This task type is paused: tasks are accepted but wait until it is resumed (${reason}).`).waitFor();
      await page.getByLabel('Task type').selectOption('email');
      await expect.poll(() => page.getByText('This task type is paused').count()).toBe(0);

      await page.getByRole('link', { name: 'Overview' }).click();
      await row.getByText(reason).waitFor();
      // The waiting task counts as pending (the email as completed).
      await expect.poll(() => page.getByTestId('count-pending').textContent(), { timeout: 10_000 }).toBe('1');
      if (shots) await screenshot(page, 'pauses');

      await row.getByRole('button', { name: 'Resume' }).click();
      await page.locator('.toast').getByText('delay_task is resumed').waitFor();
      await pauseButton.waitFor();
      await expect.poll(() => row.getByText('paused', { exact: true }).count()).toBe(0);
      expect(await row.getByText(reason).count()).toBe(0);
      expect(await typeState('delay_task')).toMatchObject({ paused: false, paused_at: null, paused_reason: null });

      // The waiting task runs now, on its first attempt.
      await expect.poll(() => status(waiting.body.data.id), { timeout: 20_000 }).toBe('completed');
      expect((await rig.call('GET', `/tasks/${waiting.body.data.id}`, mod.token)).body.data.attempts).toHaveLength(1);

      // And the user's overview follows.
      await expect.poll(() => seen.getByText('paused', { exact: true }).count(), { timeout: 10_000 }).toBe(0);
      expect(user.problems).toEqual([]);
      expect(moderator.problems).toEqual([]);
    } finally {
      await user.context.close();
      await moderator.context.close();
    }
  });
});
