import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sqliteTestDatabase } from '../helpers/databases.ts';
import { spawnTracked } from '../helpers/process-registry.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { CLI_PATH } from '../helpers/worker-process.ts';
import { ADMIN_PASSWORD, PASSWORD, screenshot, signIn, startRig, type DashboardRig } from './dashboard-harness.ts';

// Browser globals, for the functions that run in the page (the project's TypeScript has no DOM library).
declare const window: any;
declare const document: any;
declare const sessionStorage: any;
declare const localStorage: any;
declare const MutationObserver: any;

/**
 * Reads a server-sent event stream until `until` is satisfied by the events so far. `whileOpen` runs once
 * the stream has had its first poll (its first `stats`): a change made after that is reported on it,
 * while one made before may not be, since a stream reports changes, not the state it starts from.
 */
async function readEvents(
  url: string,
  token: string,
  until: (events: { event: string; data: any }[]) => boolean,
  whileOpen?: () => Promise<void>,
): Promise<{ event: string; data: any }[]> {
  const controller = new AbortController();
  // A stream that never says what is awaited fails with what it did say, not with the test's timeout.
  const giveUp = setTimeout(() => controller.abort(), 20_000);
  const response = await fetch(`${url}/events`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  let opened = false;
  const events: { event: string; data: any }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
      if (whileOpen && !opened && events.some((e) => e.event === 'stats')) {
        opened = true;
        await whileOpen();
      }
      if (until(events)) return events;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(giveUp);
    controller.abort();
  }
  throw new Error(`the event stream ended before what was awaited; it said:\n${JSON.stringify(events, null, 1)}`);
}

/** Who sees what, on a phone, with a keyboard, and from `conveyor serve` itself. */
describe('dashboard access [sqlite]', () => {
  let rig: DashboardRig;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    rig = await startRig(sqliteTestDatabase());
    alice = await rig.account('alice');
    bob = await rig.account('bob');
    ({ page, problems } = await rig.page());
  });
  afterAll(async () => rig?.close());

  test('a user cannot see another user\'s task: not in the list, not by its address, not in the live stream', async () => {
    const secret = (await rig.call('POST', '/tasks', alice.token, { task_type: 'delay_task', payload: { delay_ms: 0 }, scheduled_at: new Date(Date.now() + 3_600_000).toISOString() })).body.data;
    expect((await rig.call('GET', `/tasks/${secret.id}`, alice.token)).status).toBe(200);

    await signIn(page, rig.url, 'bob', PASSWORD);
    await page.getByText('Your tasks, as they happen.').waitFor();
    await expect.poll(() => page.getByTestId('count-total').textContent()).toBe('0');
    // No workers panel and no breaker resets for role user.
    expect(await page.getByRole('heading', { name: 'Workers' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Reset' }).count()).toBe(0);

    await page.getByRole('link', { name: 'Tasks', exact: true }).click();
    await page.getByText('No tasks yet.').waitFor();
    await page.goto(`${rig.url}/#/tasks/${secret.id}`);
    await page.getByRole('heading', { level: 1, name: 'Task not found' }).waitFor();

    // While bob watches his list, alice's new task never reaches it; his own appears live.
    await page.goto(`${rig.url}/#/tasks`);
    await page.getByText('No tasks yet.').waitFor();
    await page.locator('.live-live').waitFor();
    const hers = (await rig.call('POST', '/tasks', alice.token, { task_type: 'delay_task', payload: { delay_ms: 0 } })).body.data;
    const his = (await rig.call('POST', '/tasks', bob.token, { task_type: 'delay_task', payload: { delay_ms: 0 } })).body.data;
    await page.locator(`tr[data-task-id="${his.id}"]`).waitFor();
    await page.locator(`tr[data-task-id="${his.id}"] [data-status="completed"]`).waitFor({ timeout: 20_000 });
    expect(await page.locator(`tr[data-task-id="${hers.id}"], tr[data-task-id="${secret.id}"]`).count()).toBe(0);
    expect(await page.locator('tbody tr').count()).toBe(1);

    // The stream itself: bob's events name only bob's tasks, and his stats cover only his.
    const next = (await rig.call('POST', '/tasks', alice.token, { task_type: 'delay_task', payload: { delay_ms: 0 } })).body.data;
    const events = await readEvents(rig.url, bob.token, (list) => list.some((e) => e.event === 'stats'));
    let mine = { id: '' };
    const later = await readEvents(
      rig.url,
      bob.token,
      (list) => list.some((e) => e.event === 'tasks' && e.data.tasks.some((t: any) => t.id === mine.id && t.status === 'completed')),
      async () => {
        mine = (await rig.call('POST', '/tasks', bob.token, { task_type: 'delay_task', payload: { delay_ms: 0 } })).body.data;
      },
    );
    const seenIds = [...events, ...later].filter((e) => e.event === 'tasks').flatMap((e) => e.data.tasks.map((t: any) => t.id));
    expect(seenIds).toContain(mine.id);
    for (const id of [secret.id, hers.id, next.id]) expect(seenIds).not.toContain(id);
    const hello = events.find((e) => e.event === 'hello')!.data;
    expect(hello).toMatchObject({ user_id: bob.id, role: 'user', scope: 'own' });
    const stats = events.find((e) => e.event === 'stats')!.data;
    expect(stats).toMatchObject({ scope: 'own', total: 1 });
    expect(problems).toEqual([]);
  });

  test('works on a phone-sized screen without sideways scrolling, and with the keyboard', async () => {
    for (const priority of ['high', 'low']) await rig.call('POST', '/tasks', alice.token, { task_type: 'delay_task', payload: { delay_ms: 0 }, priority });
    const phone = await rig.page({ width: 390, height: 844 });
    try {
      await signIn(phone.page, rig.url, 'alice', PASSWORD);
      const width = () => phone.page.evaluate(() => document.documentElement.scrollWidth);
      await phone.page.locator('.live-live').waitFor();
      await expect.poll(() => phone.page.getByTestId('count-total').textContent()).not.toBe('—');
      expect(await width()).toBeLessThanOrEqual(390);
      // Every page of the navigation is in view, none behind a sideways scroll.
      expect(await phone.page.locator('nav.nav').evaluate((nav) => nav.scrollWidth <= nav.clientWidth)).toBe(true);
      await screenshot(phone.page, 'phone', false);
      await phone.page.goto(`${rig.url}/#/tasks`);
      await phone.page.locator('tbody tr').first().waitFor();
      expect(await width()).toBeLessThanOrEqual(390);
      await screenshot(phone.page, 'phone-tasks', false);
      await phone.page.goto(`${rig.url}/#/create`);
      await phone.page.getByLabel('Payload (JSON)').waitFor();
      expect(await width()).toBeLessThanOrEqual(390);

      // Moving to another page focuses its title, so screen readers announce it.
      await phone.page.getByRole('link', { name: 'Dead letter' }).click();
      await phone.page.getByRole('heading', { level: 1, name: 'Dead letter' }).waitFor();
      await expect.poll(() => phone.page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
      // On a fresh load the first Tab reaches "Skip to content", which moves focus to the page.
      await phone.page.reload();
      await phone.page.getByRole('heading', { level: 1, name: 'Dead letter' }).waitFor();
      await phone.page.keyboard.press('Tab');
      expect(await phone.page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
      await phone.page.keyboard.press('Enter');
      expect(await phone.page.evaluate(() => document.activeElement?.id)).toBe('main');
      expect(await phone.page.getByRole('link', { name: 'Dead letter' }).getAttribute('aria-current')).toBe('page');
      expect(phone.problems).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });

  test('logging out ends the session on the server and returns to the sign-in form', async () => {
    await page.goto(`${rig.url}/#/`);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('conveyor.session'))).toBeNull();
    // bob's API token (a separate session) still works; the browser's is gone.
    expect((await rig.call('GET', '/auth/me', bob.token)).status).toBe(200);
  });

  test('conveyor serve serves the dashboard at / with its CSP, while every API route keeps its paths', async () => {
    const db = sqliteTestDatabase();
    const child = spawnTracked(process.execPath, [CLI_PATH, 'serve'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CONVEYOR__DATABASE__URL: db.url, CONVEYOR__SERVER__PORT: '0', CONVEYOR__LOG__LEVEL: 'info', CONVEYOR__AUTH__INITIAL_ADMIN_PASSWORD: ADMIN_PASSWORD },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const base = await waitFor(() => lines.map((l) => /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(l)?.[1]).find(Boolean), {
        timeoutMs: 30_000,
        message: () => `the server to listen\n${lines.join('\n')}`,
      });
      const index = await fetch(`${base}/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toContain('text/html');
      const html = await index.text();
      const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)![1]!;
      const csp = index.headers.get('content-security-policy')!;
      expect(csp).toContain(`script-src 'self' 'sha256-${createHash('sha256').update(importMap).digest('base64')}'`);
      expect(csp).not.toContain('unsafe');
      for (const path of Object.values<string>((JSON.parse(importMap) as { imports: Record<string, string> }).imports)) {
        const file = await fetch(base + path);
        expect(file.status, path).toBe(200);
        expect(file.headers.get('content-type'), path).toContain('javascript');
      }
      expect((await fetch(`${base}/ui/app.js`)).status).toBe(200);
      expect((await fetch(`${base}/ui/index.html`)).status).toBe(404);
      expect((await fetch(`${base}/ui/%2e%2e/package.json`)).status).toBe(404);
      expect((await fetch(`${base}/ui/%2e%2e/%2e%2e/package.json`)).status).toBe(404);
      // The API is untouched: JSON at its paths and under /api/v1, 401 without a token.
      for (const prefix of ['', '/api/v1']) {
        expect((await fetch(`${base}${prefix}/health`)).status).toBe(200);
        const tasks = await fetch(`${base}${prefix}/tasks`);
        expect(tasks.status).toBe(401);
        expect(((await tasks.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
        expect((await fetch(`${base}${prefix}/events`)).status).toBe(401);
      }
      const docs = (await (await fetch(`${base}/api-docs/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(docs.paths)).not.toContain('/');
      expect(Object.keys(docs.paths)).toContain('/events');

      // The page runs under that policy: no CSP report, no script error.
      const browserPage = await rig.page();
      try {
        await signIn(browserPage.page, base, 'admin', ADMIN_PASSWORD);
        await browserPage.page.locator('.live-live').waitFor();
        expect(browserPage.problems).toEqual([]);
        // Its open event stream does not hold the shutdown up.
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      } finally {
        await browserPage.context.close();
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await db.drop();
    }
  });
});
