import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_BREAKER_CONFIG } from '../../src/core/circuit-breaker.ts';
import { testDatabases } from '../helpers/databases.ts';
import { PASSWORD, signIn, startRig, taskTypeRow, type DashboardRig } from './dashboard-harness.ts';

/**
 * A webhook breaker kept per destination host, in Chromium against the real API and database (both
 * engines): the overview lists it under its type as `webhook @ host`, an admin closes that scope
 * alone, and a plain user is not shown other users' destinations.
 */
describe.each(testDatabases)('dashboard breaker scopes [$kind]', ({ create }) => {
  let rig: DashboardRig;

  beforeAll(async () => {
    rig = await startRig(create());
    await rig.account('ada', 'admin');
    await rig.account('paul');
  });
  afterAll(async () => rig?.close());

  test("an open host breaker shows as `webhook @ host` under webhook; an admin resets it; a plain user does not see the host", async () => {
    const now = new Date();
    const config = { ...DEFAULT_BREAKER_CONFIG, openMs: 600_000 };
    for (let i = 0; i < config.failureThreshold; i++) {
      await rig.engine.breakerRecord({ taskType: 'webhook', scope: 'down.example.com', outcome: 'failure', now, config });
    }
    const admin = await rig.page();
    const plain = await rig.page();
    try {
      await signIn(admin.page, rig.url, 'ada', PASSWORD);
      await admin.page.getByRole('heading', { level: 2, name: 'Task types' }).waitFor();
      const webhookRow = taskTypeRow(admin.page, 'webhook');
      const scoped = webhookRow.locator('.breaker-scope[data-breaker-scope="down.example.com"]');
      await scoped.getByText('webhook @ down.example.com').waitFor();
      await scoped.locator('.badge.breaker-open').waitFor();
      await scoped.getByText('5 failures').waitFor();
      // The type's own breaker is not open: the row's own badge (outside the scopes) is not.
      expect(await webhookRow.locator(':scope > .badge.breaker-open').count()).toBe(0);
      await admin.page.getByText('1 breaker not closed').waitFor();

      await signIn(plain.page, rig.url, 'paul', PASSWORD);
      await plain.page.getByRole('heading', { level: 2, name: 'Task types' }).waitFor();
      await taskTypeRow(plain.page, 'webhook').waitFor();
      expect(await plain.page.locator('.breaker-scope').count()).toBe(0);

      await scoped.getByRole('button', { name: 'Reset' }).click();
      await scoped.getByRole('button', { name: 'Close breaker' }).click();
      await admin.page.locator('.toast').getByText('Breaker for webhook @ down.example.com closed').waitFor();
      await scoped.locator('.badge.breaker-closed').waitFor();
      expect((await rig.engine.breakerGet({ taskType: 'webhook', scope: 'down.example.com' }))?.state).toBe('closed');
      expect(admin.problems).toEqual([]);
      expect(plain.problems).toEqual([]);
    } finally {
      await admin.context.close();
      await plain.context.close();
    }
  });
});
