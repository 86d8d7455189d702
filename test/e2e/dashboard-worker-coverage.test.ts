import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { newTask } from '../../src/core/new-task.ts';
import { testDatabases } from '../helpers/databases.ts';
import { PASSWORD, signIn, startRig, type DashboardRig } from './dashboard-harness.ts';

/**
 * A task of a type no live worker takes (inserted by SQL or another Conveyor version) used to wait
 * with no sign anywhere. In Chromium against the real API, a real `conveyor work` process (which takes
 * the built-in types only) and a real database, on both engines: the overview names the type, the
 * task page warns; once no worker runs at all, both say that once, calmly, instead.
 */
describe.each(testDatabases)('dashboard: task types no live worker takes [$kind]', ({ create }) => {
  let rig: DashboardRig;
  let user: { id: string; token: string };

  beforeAll(async () => {
    rig = await startRig(create());
    user = await rig.account('uma');
  });
  afterAll(async () => rig?.close());

  test('the overview names the waiting type nobody takes and the task page warns; with no worker running, one calm note', async () => {
    const { task } = await rig.engine.taskInsert({ task: { ...newTask({ taskType: 'legacy_import', payload: { batch: 7 } }, new Date()), createdBy: user.id } });
    const handled = (await rig.call('POST', '/tasks', user.token, { task_type: 'delay_task', payload: { delay_ms: 60_000 }, scheduled_at: new Date(Date.now() + 3_600_000).toISOString() })).body.data;
    const { page, context, problems } = await rig.page();
    try {
      await signIn(page, rig.url, 'uma', PASSWORD);
      const notice = page.getByTestId('unhandled-types-notice');
      await notice.waitFor();
      expect(await notice.textContent()).toContain('No live worker handles this task type: legacy_import (1 waiting)');
      const row = page.getByRole('row', { name: /legacy_import/ });
      await row.getByText('no worker', { exact: true }).waitFor();
      expect(await page.getByRole('row', { name: /delay_task/ }).getByText('no worker', { exact: true }).count()).toBe(0);

      await page.goto(`${rig.url}/#/tasks/${task.id}`);
      const warning = page.getByTestId('handling-notice');
      await warning.waitFor();
      expect(await warning.textContent()).toContain('No live worker handles legacy_import.');
      // A task a live worker takes carries no notice.
      await page.goto(`${rig.url}/#/tasks/${handled.id}`);
      await page.getByRole('heading', { level: 2, name: 'History' }).waitFor();
      expect(await page.getByTestId('handling-notice').count()).toBe(0);

      // The only worker stops (a clean stop removes its record): nothing runs, and that is said once.
      expect(await rig.worker.stop()).toBe(0);
      await page.goto(`${rig.url}/#/`);
      await page.getByTestId('no-workers-notice').waitFor();
      expect(await page.getByTestId('no-workers-notice').textContent()).toContain('No worker is running: 2 waiting tasks will start when one does.');
      expect(await page.getByTestId('unhandled-types-notice').count()).toBe(0);
      await page.goto(`${rig.url}/#/tasks/${task.id}`);
      await page.getByTestId('handling-notice').waitFor();
      expect(await page.getByTestId('handling-notice').textContent()).toContain('No worker is running right now');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
