import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailRecipientPolicy } from '../../src/cli/email-recipient-policy.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { uuidv7 } from '../../src/core/id.ts';
import { DEFAULT_QUOTA_CONFIG, type QuotaConfig } from '../../src/core/quota.ts';
import { PermanentTaskError } from '../../src/core/task-errors.ts';
import type { Engine } from '../../src/store/engine.ts';
import { createEmailTask } from '../../src/tasks/builtin/email.ts';
import { createEngine } from '../helpers/create-engine.ts';
import { testDatabases, useTemplate, type TestDatabase } from '../helpers/databases.ts';
import { taskContext } from '../unit/builtin-context.ts';

/** A real SMTP server that asks for a password and (unless `starttls`) offers no STARTTLS; records every AUTH it hears. */
async function startSmtp(p: { starttls: boolean; authOptional?: boolean }) {
  const auths: string[] = [];
  const received: string[][] = [];
  const server = new SMTPServer({
    logger: false,
    // smtp-server refuses AUTH without TLS unless told otherwise: a careless server is what this test needs.
    allowInsecureAuth: true,
    authOptional: p.authOptional === true,
    disabledCommands: p.starttls ? [] : ['STARTTLS'],
    onAuth(auth, _session, callback) {
      auths.push(`${auth.username}:${auth.password}`);
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        received.push(session.envelope.rcptTo.map((r) => r.address));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, auths, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const MESSAGE = { to: 'user@example.com', subject: 'Hello', body: 'Hi' };

describe('SMTP credentials are never sent in clear text unless allowed', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let outbox: string;
  beforeAll(async () => {
    smtp = await startSmtp({ starttls: false });
    outbox = mkdtempSync(join(tmpdir(), 'conveyor-outbox-'));
  });
  afterAll(async () => {
    await smtp?.close();
    rmSync(outbox, { recursive: true, force: true });
  });

  it('a server without STARTTLS gets no password: the task fails and the server heard no AUTH', async () => {
    const task = createEmailTask({ smtpUrl: `smtp://mailer:s3cret@127.0.0.1:${smtp.port}`, from: 'conveyor@example.org', outboxDir: outbox });
    await expect(task.handler(MESSAGE, taskContext())).rejects.toThrow();
    expect(smtp.auths).toEqual([]);
    expect(smtp.received).toEqual([]);
  });

  it('email.allow_plaintext_auth lets an operator accept it knowingly', async () => {
    const task = createEmailTask({ smtpUrl: `smtp://mailer:s3cret@127.0.0.1:${smtp.port}`, from: 'conveyor@example.org', outboxDir: outbox, allowPlaintextAuth: true });
    await task.handler(MESSAGE, taskContext());
    expect(smtp.auths).toEqual(['mailer:s3cret']);
    expect(smtp.received).toEqual([['user@example.com']]);
  });
});

describe.each(testDatabases)('the email handler holds every task to its owner\'s recipient rules [$kind]', ({ create }) => {
  let db: TestDatabase;
  let engine: Engine;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const quotas: QuotaConfig = { ...DEFAULT_QUOTA_CONFIG, user: { ...DEFAULT_QUOTA_CONFIG.user, emailRecipientsPerDay: 3, emailDomains: ['example.com'] } };
  beforeAll(async () => {
    db = create();
    await useTemplate(db);
    engine = createEngine(db.url);
    await engine.migrate();
    smtp = await startSmtp({ starttls: false, authOptional: true });
  });
  afterAll(async () => {
    await smtp?.close();
    await engine?.close();
    await db?.drop();
  });

  const user = async (role: 'user' | 'admin' = 'user') => {
    const id = uuidv7();
    await engine.userInsert({ user: { id, username: `u${id.slice(-8)}`, email: `${id.slice(-8)}@example.com`, passwordHash: 'x', role, createdAt: clock.now() } });
    return id;
  };
  // Tasks that reached the queue without the API (the library, an import) meet the same rules when sent.
  const handler = () => createEmailTask({ smtpUrl: `smtp://127.0.0.1:${smtp.port}`, from: 'conveyor@example.org', outboxDir: '', checkRecipients: emailRecipientPolicy({ engine, quotas, clock }) });

  it('refuses recipients outside the domains, permanently, before anything is sent', async () => {
    const owner = await user();
    const before = smtp.received.length;
    const error = await handler().handler({ ...MESSAGE, to: ['a@example.com', 'b@elsewhere.org'] }, taskContext({ createdBy: owner })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentTaskError);
    expect((error as Error).message).toMatch(/b@elsewhere\.org is outside the domains the role user may email/);
    expect(smtp.received.length).toBe(before);
  });

  it('counts recipients per day in the database, once per task however often it is retried', async () => {
    const owner = await user();
    const first = taskContext({ createdBy: owner });
    await handler().handler({ ...MESSAGE, to: ['a@example.com', 'b@example.com'] }, first);
    // A retried attempt of the same task is not counted again.
    await handler().handler({ ...MESSAGE, to: ['a@example.com', 'b@example.com'] }, { ...first, attempt: 2 });
    const error = await handler().handler({ ...MESSAGE, to: ['c@example.com', 'd@example.com'] }, taskContext({ createdBy: owner })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentTaskError);
    expect((error as Error).message).toMatch(/quota email_recipients_per_day: the role user may email 3 recipients in 24 hours; 2 were addressed/);
    await handler().handler({ ...MESSAGE, to: 'c@example.com' }, taskContext({ createdBy: owner }));
    // A day later the count starts again.
    clock.advance(24 * 3_600_000 + 1);
    await handler().handler({ ...MESSAGE, to: ['c@example.com', 'd@example.com'] }, taskContext({ createdBy: owner }));
  });

  it('admins and tasks without an owner are not limited', async () => {
    const admin = await user('admin');
    await handler().handler({ ...MESSAGE, to: ['x@elsewhere.org', 'y@elsewhere.org', 'z@elsewhere.org', 'w@elsewhere.org'] }, taskContext({ createdBy: admin }));
    await handler().handler({ ...MESSAGE, to: ['x@elsewhere.org', 'y@elsewhere.org', 'z@elsewhere.org', 'w@elsewhere.org'] }, taskContext({ createdBy: null }));
  });
});
