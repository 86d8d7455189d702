import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { ADMIN_PASSWORD, screenshot, signIn, startRig, type DashboardRig } from './dashboard-harness.ts';

// Browser globals, for the functions that run in the page (the project's TypeScript has no DOM library).
declare const window: any;
declare const document: any;
declare const sessionStorage: any;
declare const localStorage: any;
declare const MutationObserver: any;

/**
 * The dashboard's main flows in Chromium, against the real API, a real `conveyor work` process and a
 * real database (both engines). Screenshots for the README are taken on the SQLite run.
 */
describe.each(testDatabases)('dashboard flows [$kind]', ({ kind, create }) => {
  let rig: DashboardRig;
  let page: Page;
  let problems: string[];
  let adminToken: string;
  const shots = kind === 'sqlite';

  beforeAll(async () => {
    rig = await startRig(create());
    adminToken = await rig.login('admin', ADMIN_PASSWORD);
    ({ page, problems } = await rig.page());
  });
  afterAll(async () => rig?.close());

  test('the login page signs in with the API\'s account and starts live updates', async () => {
    await page.goto(`${rig.url}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    if (shots) await screenshot(page, 'login', false);
    // A wrong password is refused in place, with the API's message.
    await page.getByLabel('Username or email').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await signIn(page, rig.url, 'admin', ADMIN_PASSWORD);
    await page.locator('.live-live').waitFor();
    // The token is kept for this tab only.
    expect(await page.evaluate(() => JSON.parse(sessionStorage.getItem('conveyor.session') ?? '{}').user?.username)).toBe('admin');
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    // Marks this document: a reload later would lose it.
    await page.evaluate(() => (window.sameDocument = true));
  });

  test('an email task created from the form turns completed on its page without a reload', async () => {
    await page.getByRole('link', { name: 'New task' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'New task' }).waitFor();
    // The type list comes from GET /tasks/types; the editor is prefilled with the type's first example.
    await expect.poll(() => page.getByLabel('Task type').inputValue()).toBe('email');
    const prefilled = JSON.parse(await page.getByLabel('Payload (JSON)').inputValue());
    expect(prefilled).toMatchObject({ to: 'user@example.com', subject: expect.any(String) });
    await page.getByLabel('Payload (JSON)').fill(JSON.stringify({ to: 'dana@example.com', subject: 'From the dashboard', body: 'Hello' }, null, 2));
    await page.getByLabel('Priority').selectOption('high');
    if (shots) await screenshot(page, 'create');

    // Every status the page's title shows, from creation on.
    await page.evaluate(() => {
      const seen: string[] = [];
      window.seen = seen;
      new MutationObserver(() => {
        const status = document.querySelector('h1 [data-status]')?.getAttribute('data-status');
        if (status && seen.at(-1) !== status) seen.push(status);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.locator('h1 [data-status="completed"]').waitFor({ timeout: 20_000 });
    const seen = await page.evaluate(() => window.seen);
    expect(seen[0]).toBe('pending');
    expect(seen.at(-1)).toBe('completed');
    expect(await page.evaluate(() => window.sameDocument)).toBe(true);

    const id = /#\/tasks\/([0-9a-f-]{36})$/.exec(page.url())?.[1];
    const task = (await rig.call('GET', `/tasks/${id}`, adminToken)).body.data;
    expect(task).toMatchObject({ task_type: 'email', status: 'completed', priority: 'high', payload: { to: 'dana@example.com' } });
    // The page shows the output and the attempt that produced it.
    await page.getByRole('heading', { name: 'History' }).waitFor();
    await page.locator('.tl-completed').getByText('Attempt 1', { exact: true }).waitFor();
    expect(task.output).toMatchObject({ mode: 'outbox', message_id: expect.any(String) });
    await expect.poll(() => page.getByLabel('Output (JSON)').textContent()).toContain(task.output.message_id);
    if (shots) await screenshot(page, 'task');
  });

  test('a delay_task in the dead letter is found grouped by its error and retried', async () => {
    const created = await rig.call('POST', '/tasks', adminToken, {
      task_type: 'delay_task',
      payload: { delay_ms: 10, fail_attempts: 3 },
      max_attempts: 2,
      retry_strategy: { type: 'fixed', interval_ms: 50, jitter: 0 },
    });
    expect(created.status).toBe(201);
    const id: string = created.body.data.id;
    await rig.waitForTask(adminToken, id, (t) => t.status === 'failed', 'the delay_task to reach the dead letter');

    await page.getByRole('link', { name: 'Dead letter' }).click();
    const group = page.locator('.dl-group[data-task-type="delay_task"]');
    await group.waitFor();
    await expect.poll(() => group.locator('.error-text').textContent()).toContain('failing attempt 2 of the first 3');
    await group.getByText('Show the task').click();
    await group.locator(`[data-task-id="${id}"]`).waitFor();
    if (shots) await screenshot(page, 'dead-letter');

    await group.getByRole('button', { name: 'Retry', exact: true }).first().click();
    await page.locator('.toast').getByText('1 task queued to run again').waitFor();
    // It ran a third time (and, as its payload asks, failed once more): the timeline shows it live.
    await page.goto(`${rig.url}/#/tasks/${id}`);
    await page.locator('.tl-failed').getByText('Attempt 3', { exact: true }).waitFor({ timeout: 20_000 });
    const after = (await rig.call('GET', `/tasks/${id}`, adminToken)).body.data;
    expect(after.attempts.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2, 3]);
  });

  test('a scheduled task is cancelled from its page', async () => {
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    const created = await rig.call('POST', '/tasks', adminToken, { task_type: 'delay_task', payload: { delay_ms: 0 }, scheduled_at: inAnHour });
    expect(created.body.data.status).toBe('scheduled');
    const id: string = created.body.data.id;

    await page.goto(`${rig.url}/#/tasks?status=scheduled`);
    await page.getByRole('link', { name: `Task ${id}` }).click();
    await page.locator('h1 [data-status="scheduled"]').waitFor();
    await page.getByRole('button', { name: 'Cancel task' }).click();
    // Asks once more; focus goes to the harmless choice.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Keep');
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await page.locator('h1 [data-status="cancelled"]').waitFor();
    expect((await rig.call('GET', `/tasks/${id}`, adminToken)).body.data.status).toBe('cancelled');
    // A cancelled task can be retried or deleted, no longer cancelled.
    await page.getByRole('button', { name: 'Retry' }).waitFor();
    expect(await page.getByRole('button', { name: 'Cancel task' }).count()).toBe(0);
  });

  test('the overview counts live, shows workers and breakers, and an admin resets an open breaker', async () => {
    // Trip the webhook breaker as failing workers would.
    for (let i = 0; i < 5; i++) {
      await rig.engine.breakerRecord({ taskType: 'webhook', outcome: 'failure', now: new Date(), config: { failureThreshold: 5, successThreshold: 3, openMs: 600_000 } });
    }
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    const before = Number(await page.getByTestId('count-completed').textContent());
    await page.locator('.worker').first().getByText('online').waitFor();
    const breaker = page.locator('.breaker', { hasText: 'webhook' });
    await breaker.getByText('open').waitFor();

    // A task finished elsewhere moves the counts without a reload.
    const created = await rig.call('POST', '/tasks', adminToken, { task_type: 'delay_task', payload: { delay_ms: 0 } });
    await rig.waitForTask(adminToken, created.body.data.id, (t) => t.status === 'completed', 'the delay_task to complete');
    await expect.poll(() => page.getByTestId('count-completed').textContent(), { timeout: 10_000 }).toBe(String(before + 1));
    await expect.poll(() => page.getByTestId('completed-hour').textContent()).not.toBe('0');
    if (shots) await screenshot(page, 'overview');

    await breaker.getByRole('button', { name: 'Reset' }).click();
    await breaker.getByRole('button', { name: 'Close breaker' }).click();
    await breaker.getByText('closed').waitFor();
    expect((await rig.engine.breakerGet({ taskType: 'webhook' }))?.state).toBe('closed');
  });

  test('the tasks table filters, sorts and pages through the API', async () => {
    for (let i = 0; i < 3; i++) await rig.call('POST', '/tasks', adminToken, { task_type: 'delay_task', payload: { delay_ms: 0 }, priority: 'low' });
    await page.getByRole('link', { name: 'Tasks', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
    await page.getByLabel('Priority').selectOption('low');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(3);
    await page.getByLabel('Priority').selectOption('');
    await page.getByLabel('Type').selectOption('email');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBeGreaterThanOrEqual(7);
    if (shots) await screenshot(page, 'tasks');
    // Sorting by priority puts the high email first.
    await page.getByRole('button', { name: /^Priority/ }).click();
    await page.getByRole('button', { name: /^Priority/ }).click();
    await expect.poll(() => page.locator('tbody tr').first().locator('td[data-label="Priority"]').textContent()).toBe('high');
    // Cursor paging: 50 at a time, "Load more" asks for the next page with the API's cursor.
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const batch = await rig.call('POST', '/tasks/batch', adminToken, { tasks: Array.from({ length: 50 }, () => ({ task_type: 'delay_task', payload: { delay_ms: 0 }, scheduled_at: later })) });
    expect(batch.status).toBe(201);
    const total = (await rig.call('GET', '/tasks?limit=1', adminToken)).body.pagination.total;
    await page.reload();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(50);
    await page.getByText(`Showing 50 of ${total}`).waitFor();
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(total);
    await page.getByText(`Showing ${total} of ${total}`).waitFor();
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);

    // A whole id in the search box opens that task.
    const any = (await rig.call('GET', '/tasks?limit=1', adminToken)).body.data[0];
    await page.getByLabel('Task ID').fill(any.id);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.locator('.id-line', { hasText: any.id }).waitFor();
    expect(problems).toEqual([]);
  });
});
