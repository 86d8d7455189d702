import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { PASSWORD, signIn, startRig, taskTypeRow, taskTypeState, type DashboardRig } from './dashboard-harness.ts';

// Browser globals, for the functions that run in the page (the project's TypeScript has no DOM library).
declare const document: any;

/**
 * Limiting how many tasks of a type run at once, from the overview, in Chromium against the real API, a
 * real `conveyor work` process (four slots) and a real database (both engines): what a moderator does,
 * what a plain user sees, and that the worker then keeps to the limit.
 */
describe.each(testDatabases)('dashboard task type limits [$kind]', ({ create }) => {
  let rig: DashboardRig;
  let mod: { id: string; token: string };
  let plain: { id: string; token: string };

  beforeAll(async () => {
    rig = await startRig(create());
    mod = await rig.account('maya', 'moderator');
    plain = await rig.account('pete');
  });
  afterAll(async () => rig?.close());

  const typeRow = taskTypeRow;
  const typeState = (taskType: string) => taskTypeState(rig, plain.token, taskType);
  const focused = (page: Page) => page.evaluate(() => ({ id: document.activeElement?.id, text: document.activeElement?.textContent }));

  test('a moderator limits delay_task to one at a time, the worker keeps to it, and the limit comes off again', async () => {
    const moderator = await rig.page();
    const phone = await rig.page({ width: 390, height: 844 });
    const user = await rig.page();
    try {
      await signIn(moderator.page, rig.url, 'maya', PASSWORD);
      const page = moderator.page;
      await page.getByRole('heading', { level: 2, name: 'Task types' }).waitFor();
      const row = typeRow(page, 'delay_task');
      await row.waitFor();
      expect(await typeState('delay_task')).toMatchObject({ max_running: null, running: 0 });
      expect(await row.getByText(/^Limit \d/).count()).toBe(0);
      const limitButton = row.getByRole('button', { name: 'Limit', exact: true });
      const limitField = row.getByLabel('At most this many at once');

      // The form opens in place with the number focused; Escape goes back to the button, changing nothing.
      await limitButton.click();
      await expect.poll(async () => (await focused(page)).id).toBe('limit-delay_task');
      await page.keyboard.press('Escape');
      await expect.poll(() => limitField.count()).toBe(0);
      await expect.poll(async () => (await focused(page)).text).toBe('Limit');
      expect((await typeState('delay_task')).max_running).toBeNull();

      // Setting a limit of 1.
      await limitButton.click();
      await limitField.fill('1');
      await row.getByRole('button', { name: 'Set limit' }).click();
      await page.locator('.toast').getByText('delay_task is limited to 1 at once').waitFor();
      await row.getByText('Limit 1 at once · 0 running').waitFor();
      await expect.poll(() => limitField.count()).toBe(0);
      await expect.poll(async () => (await focused(page)).text).toBe('Limit');
      expect(await typeState('delay_task')).toMatchObject({ max_running: 1, running: 0 });
      expect((await typeState('email')).max_running).toBeNull();

      // A value the API refuses: its message next to the number, the form still open, the limit unchanged.
      await limitButton.click();
      expect(await limitField.inputValue()).toBe('1');
      await limitField.fill('0');
      await row.getByRole('button', { name: 'Set limit' }).click();
      const refusal = row.getByRole('alert');
      await refusal.waitFor();
      const refused = await rig.call('PUT', '/tasks/types/delay_task/limit', mod.token, { max_running: 0 });
      expect(refused.status).toBe(400);
      expect(refused.body.error.field).toBe('max_running');
      expect(await refusal.textContent()).toBe(refused.body.error.message);
      expect(await limitField.getAttribute('aria-invalid')).toBe('true');
      expect(await limitField.inputValue()).toBe('0');
      expect((await typeState('delay_task')).max_running).toBe(1);
      await row.getByRole('button', { name: 'Keep' }).click();
      await expect.poll(() => limitField.count()).toBe(0);
      await row.getByText('Limit 1 at once').waitFor();

      // On a phone the row, with its form open, still fits: nothing scrolls sideways.
      await signIn(phone.page, rig.url, 'maya', PASSWORD);
      const phoneRow = typeRow(phone.page, 'delay_task');
      await phoneRow.getByText('Limit 1 at once').waitFor();
      await phoneRow.getByRole('button', { name: 'Limit', exact: true }).click();
      await phoneRow.getByRole('button', { name: 'Remove limit' }).waitFor();
      expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await phone.page.keyboard.press('Escape');
      await expect.poll(() => phoneRow.getByLabel('At most this many at once').count()).toBe(0);

      // A plain user sees the limit, and has no way to change it.
      await signIn(user.page, rig.url, 'pete', PASSWORD);
      const seen = typeRow(user.page, 'delay_task');
      await seen.getByText('Limit 1 at once · 0 running').waitFor();
      expect(await seen.getByRole('button').count()).toBe(0);
      expect(await user.page.getByRole('button', { name: 'Limit' }).count()).toBe(0);

      // The limit acts: of two slow delay_tasks, one runs while the other waits, never both at once.
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const made = await rig.call('POST', '/tasks', mod.token, { task_type: 'delay_task', payload: { delay_ms: 2000 } });
        expect(made.status).toBe(201);
        ids.push(made.body.data.id);
      }
      let mostRunning = 0;
      let sawOneWaiting = false;
      const watched = waitFor(async () => {
        const running = await rig.call('GET', '/tasks?task_type=delay_task&status=running', mod.token);
        expect(running.status).toBe(200);
        mostRunning = Math.max(mostRunning, running.body.data.length);
        if (running.body.data.length === 1 && !sawOneWaiting) {
          const other = ids.find((id) => id !== running.body.data[0].id)!;
          const waiting = (await rig.call('GET', `/tasks/${other}`, mod.token)).body.data;
          if (waiting.status === 'pending') sawOneWaiting = true;
        }
        const statuses = await Promise.all(ids.map(async (id) => (await rig.call('GET', `/tasks/${id}`, mod.token)).body.data.status));
        return statuses.every((s) => s === 'completed');
      }, { timeoutMs: 30_000, message: () => `both delay_tasks to complete\n${rig.worker.describe()}` });
      // Meanwhile the moderator's overview counts the one running, live.
      await Promise.all([watched, row.getByText('Limit 1 at once · 1 running (at the limit)').waitFor()]);
      expect(sawOneWaiting).toBe(true);
      expect(mostRunning).toBe(1);
      await row.getByText('Limit 1 at once · 0 running').waitFor();

      // Removing the limit from the overview.
      await limitButton.click();
      await row.getByRole('button', { name: 'Remove limit' }).click();
      await page.locator('.toast').getByText('delay_task has no limit now').waitFor();
      await expect.poll(() => row.getByText(/^Limit \d/).count()).toBe(0);
      await expect.poll(async () => (await focused(page)).text).toBe('Limit');
      expect(await typeState('delay_task')).toMatchObject({ max_running: null });

      expect(moderator.problems).toEqual([]);
      expect(phone.problems).toEqual([]);
      expect(user.problems).toEqual([]);
    } finally {
      await moderator.context.close();
      await phone.context.close();
      await user.context.close();
    }
  });
});
