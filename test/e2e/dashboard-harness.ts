import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { pino } from 'pino';
import type { ApiConfig, DeepPartial } from '../../src/api/api-config.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createEngine } from '../helpers/create-engine.ts';
import type { Engine } from '../../src/store/engine.ts';
import { useTemplate, type TestDatabase } from '../helpers/databases.ts';
import { ADMIN_PASSWORD, PASSWORD, startHttpServer } from '../helpers/http-harness.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWorker, type WorkerProcess } from '../helpers/worker-process.ts';

// A browser global, for the function that runs in the page (the project's TypeScript has no DOM library).
declare const window: any;

export { ADMIN_PASSWORD, PASSWORD } from '../helpers/http-harness.ts';
export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots in docs/ are rewritten only when asked (`npm run screenshots`), never as a side effect of a test run. */
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export interface ApiAnswer {
  status: number;
  // Parsed JSON envelope (tests read into it freely).
  body: any;
}

/**
 * The dashboard for real: the API (buildApp, the same app `conveyor serve` runs) on a real engine, a
 * `conveyor work` process running the built-in task types, and Debian's Chromium.
 */
export interface DashboardRig {
  url: string;
  app: FastifyInstance;
  engine: Engine;
  worker: WorkerProcess;
  browser: Browser;
  call(method: string, path: string, token?: string, body?: unknown): Promise<ApiAnswer>;
  /** Registers (role user) and logs in; returns the session token. */
  /** Registers and logs in an account; a moderator or admin is promoted by the first admin, as the API allows. */
  account(username: string, role?: 'user' | 'moderator' | 'admin'): Promise<{ id: string; token: string }>;
  login(username: string, password: string): Promise<string>;
  /** A new browser context (its own sessionStorage) and page, failing the test on page errors and CSP reports. */
  page(viewport?: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page; problems: string[] }>;
  waitForTask(token: string, id: string, accept: (task: any) => boolean, what: string): Promise<any>;
  close(): Promise<void>;
}

/** `overrides` go to the API's settings (registration: 'invite', ...); `account()` needs open registration. */
export async function startRig(db: TestDatabase, overrides: DeepPartial<ApiConfig> = {}): Promise<DashboardRig> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The dashboard's browser tests drive Chromium, and there is none at ${CHROMIUM}. Install it (Debian/Ubuntu: \`apt-get install chromium\`), or set CHROMIUM_PATH to a Chromium or Chrome binary.`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'conveyor-dashboard-'));
  await useTemplate(db);
  const engine = createEngine(db.url);
  await engine.migrate();
  // The worker registers the built-in task types the API then offers; it polls quickly so retries are prompt.
  const worker = startWorker({
    databaseUrl: db.url,
    entry: 'cli',
    args: ['--no-migrate'],
    env: {
      CONVEYOR__DATA__DIR: dataDir,
      CONVEYOR__WORKER__POLL_INTERVAL_MS: '200',
      // The dead-letter test fails delay_task on purpose; its breaker must not open meanwhile.
      CONVEYOR__BREAKER__FAILURE_THRESHOLD: '1000',
    },
  });
  const browserStarting = chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  await worker.started();

  const logs: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logs.push(line) });
  const server = await startHttpServer({ engine, clock: systemClock, logger, overrides: { taskTypeCacheMs: 250, ...overrides } });
  const { url, app, login } = server;
  const browser = await browserStarting;

  const call = async (method: string, path: string, token?: string, body?: unknown): Promise<ApiAnswer> => {
    const answer = await server.call(method, path, { token, body });
    return { status: answer.status, body: answer.body };
  };

  return {
    url,
    app,
    engine,
    worker,
    browser,
    call,
    login,
    account: async (username, role = 'user') => {
      const id = await server.register(username);
      if (role !== 'user') {
        const promoted = await call('PATCH', `/users/${id}`, await login('admin', ADMIN_PASSWORD), { role });
        if (promoted.status !== 200) throw new Error(`promote ${username}: ${promoted.status} ${JSON.stringify(promoted.body)}`);
      }
      return { id, token: await login(username, PASSWORD) };
    },
    page: async (viewport = { width: 1280, height: 860 }) => {
      const context = await browser.newContext({ viewport, deviceScaleFactor: 1, reducedMotion: 'reduce', timezoneId: 'UTC', locale: 'en-GB' });
      const page = await context.newPage();
      // Waits fail well inside the test's own timeout, with playwright's account of what it waited for.
      page.setDefaultTimeout(15_000);
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        // The browser logs every 4xx answer; the UI shows those itself (a wrong password, a missing task).
        if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) {
          problems.push(`console error: ${message.text()}`);
        }
      });
      return { context, page, problems };
    },
    waitForTask: (token, id, accept, what) =>
      waitFor(async () => {
        const answer = await call('GET', `/tasks/${id}`, token);
        return answer.status === 200 && accept(answer.body.data) ? answer.body.data : undefined;
      }, { timeoutMs: 20_000, message: () => `${what}\n${worker.describe()}` }),
    close: async () => {
      await browser.close().catch(() => {});
      await app.close();
      await worker.stop();
      await engine.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in through the form, as a person would. */
export async function signIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
}

/**
 * Readies the page for a screenshot for the README and, when UPDATE_SCREENSHOTS=1, saves it as
 * docs/screenshots/<name>.png; otherwise the tracked file is left as it is.
 */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  // Without the passing notifications (dismissed as a user would: the page's CSP refuses injected styles),
  // and from the top, since the header is sticky.
  const toasts = page.locator('.toast-close');
  while ((await toasts.count()) > 0) await toasts.first().click();
  await page.evaluate(() => window.scrollTo(0, 0));
  if (!UPDATE_SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage, animations: 'disabled', caret: 'hide' });
}

/** A task type's row in the overview's Task types panel. */
export function taskTypeRow(page: Page, taskType: string) {
  return page.locator(`.breaker[data-task-type="${taskType}"]`);
}

/** A task type as GET /tasks/types shows it to `token`'s user. */
export async function taskTypeState(rig: DashboardRig, token: string, taskType: string): Promise<any> {
  const answer = await rig.call('GET', '/tasks/types', token);
  if (answer.status !== 200) throw new Error(`GET /tasks/types: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.data.find((t: { task_type: string }) => t.task_type === taskType);
}
