import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { ApiConfig, DeepPartial } from '../../src/api/api-config.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { createEngine } from '../helpers/create-engine.ts';
import type { Engine, UserRole } from '../../src/store/engine.ts';
import { useTemplate, type TestDatabase } from '../helpers/databases.ts';
import { PASSWORD, startHttpServer, type CallOptions, type CallResult } from '../helpers/http-harness.ts';

/** The payload schemas the API tests register, as a worker would (plain JSON Schema in the database). */
export const EMAIL_SCHEMA = {
  type: 'object',
  properties: { to: { type: 'string', format: 'email' }, subject: { type: 'string', maxLength: 200 }, body: { type: 'string' } },
  required: ['to', 'subject', 'body'],
  additionalProperties: false,
};
export const EMAIL_PAYLOAD = { to: 'user@example.com', subject: 'Hello', body: 'This is a test email' };
export { ADMIN_PASSWORD, PASSWORD, TEST_ARGON2, type CallOptions, type CallResult } from '../helpers/http-harness.ts';

export interface Account {
  id: string;
  username: string;
  token: string;
}

export interface ApiHarness {
  url: string;
  app: FastifyInstance;
  engine: Engine;
  clock: ManualClock;
  db: TestDatabase;
  /** Every log line the app wrote, as text. */
  logs: string[];
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  /** Registers and logs in a fresh user (unique name), with the given role. */
  account(role?: UserRole, prefix?: string): Promise<Account>;
  login(login: string, password: string): Promise<string>;
  close(): Promise<void>;
}

let counter = 0;

/** A real API on a real engine, listening on a free port; the clock is manual, the logs captured. */
export async function startApi(db: TestDatabase, overrides: DeepPartial<ApiConfig> = {}): Promise<ApiHarness> {
  await useTemplate(db);
  const engine = createEngine(db.url);
  await engine.migrate();
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  await engine.typeRegister({
    type: { name: 'email', description: 'Send an email', payloadSchema: EMAIL_SCHEMA, examples: [EMAIL_PAYLOAD], timeoutMs: 30_000 },
    now: clock.now(),
  });
  await engine.typeRegister({ type: { name: 'report', description: 'Free-form', payloadSchema: null, examples: [], timeoutMs: 60_000 }, now: clock.now() });

  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const server = await startHttpServer({ engine, clock, logger: pino({ level: 'debug' }, sink), overrides });

  const account = async (role: UserRole = 'user', prefix = 'user'): Promise<Account> => {
    counter += 1;
    const username = `${prefix}${counter}_${process.pid}`;
    const id = await server.register(username);
    // Roles are granted out of band (the CLI, an admin), never through registration.
    if (role !== 'user') await engine.userUpdate({ id, changes: { role }, now: clock.now() });
    return { id, username, token: await server.login(username, PASSWORD) };
  };

  return {
    url: server.url,
    app: server.app,
    engine,
    clock,
    db,
    logs,
    call: server.call,
    account,
    login: server.login,
    close: async () => {
      await server.app.close();
      await engine.close();
      await db.drop();
    },
  };
}

/** Creates an email task through the API as the token's user; returns the task's JSON. */
export async function createTask(api: ApiHarness, token: string, body: Record<string, unknown> = {}): Promise<any> {
  const response = await api.call('POST', '/tasks', { token, body: { task_type: 'email', payload: EMAIL_PAYLOAD, ...body } });
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${response.text}`);
  return response.body.data;
}

/** Claims the oldest due task of `taskType` as a test worker would; each test uses its own type. */
export async function claimOne(api: ApiHarness, taskType: string, workerId = 'test-worker') {
  const [task] = await api.engine.taskClaim({ workerId, taskTypes: [taskType], limit: 1, now: api.clock.now(), leaseMs: 60_000 });
  if (!task) throw new Error(`no ${taskType} task to claim`);
  return { task, lease: { id: task.id, attempt: task.currentAttempt, workerId } };
}

/** Registers schemaless task types (one per test that needs a worker's view of its own tasks). */
export async function registerTypes(api: ApiHarness, ...names: string[]): Promise<void> {
  for (const name of names) {
    await api.engine.typeRegister({ type: { name, description: `test type ${name}`, payloadSchema: null, examples: [], timeoutMs: 60_000 }, now: api.clock.now() });
  }
  // The API caches the type list; a miss looks again after a second.
  api.clock.advance(1_000);
}
