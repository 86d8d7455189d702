import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentTaskError, RetryableTaskError } from '../../src/core/task-errors.ts';
import { createEmailTask, MAX_RECIPIENTS } from '../../src/tasks/builtin/email.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { taskContext } from './builtin-context.ts';

interface Received {
  from: string | false;
  rcpt: string[];
  raw: string;
}

/** A real SMTP server on 127.0.0.1 that keeps what it receives and refuses two special recipients. */
async function startSmtp(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      if (address.address === 'greylisted@example.com') return callback(Object.assign(new Error('Greylisted, try again later'), { responseCode: 451 }));
      if (address.address === 'nobody@example.com') return callback(Object.assign(new Error('No such user'), { responseCode: 550 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom === false ? false : session.envelope.mailFrom.address,
          rcpt: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The header block of a raw message, unfolded, as name → values. */
function headers(raw: string): Map<string, string[]> {
  const block = raw.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const map = new Map<string, string[]>();
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    map.set(name, [...(map.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return map;
}

let smtp: Awaited<ReturnType<typeof startSmtp>>;
let outbox: string;

beforeAll(async () => {
  smtp = await startSmtp();
  outbox = mkdtempSync(join(tmpdir(), 'conveyor-outbox-'));
});
afterAll(async () => {
  await smtp.close();
  rmSync(outbox, { recursive: true, force: true });
});

describe('email over SMTP (a real smtp-server)', () => {
  const task = () => createEmailTask({ smtpUrl: smtp.url, from: 'conveyor@example.org', outboxDir: outbox });

  it('delivers the message with the right headers and envelope, Message-ID from the idempotency key', async () => {
    const context = taskContext();
    const before = smtp.received.length;
    const output = await task().handler(
      { to: ['user@example.com', 'other@example.com'], cc: 'cc@example.com', bcc: 'hidden@example.com', reply_to: 'replies@example.com', subject: 'Welcome!', body: 'Thanks for signing up', html: '<p>Thanks</p>' },
      context,
    );
    expect(smtp.received.length).toBe(before + 1);
    const message = smtp.received.at(-1)!;
    expect(message.from).toBe('conveyor@example.org');
    expect(message.rcpt.sort()).toEqual(['cc@example.com', 'hidden@example.com', 'other@example.com', 'user@example.com']);
    const h = headers(message.raw);
    expect(h.get('message-id')).toEqual([`<${context.taskId}@conveyor>`]);
    expect(h.get('subject')).toEqual(['Welcome!']);
    expect(h.get('to')).toEqual(['user@example.com, other@example.com']);
    expect(h.get('cc')).toEqual(['cc@example.com']);
    expect(h.get('reply-to')).toEqual(['replies@example.com']);
    expect(h.get('from')).toEqual(['conveyor@example.org']);
    expect(h.has('bcc')).toBe(false);
    expect(message.raw).toContain('Thanks for signing up');
    expect(output).toMatchObject({ mode: 'smtp', message_id: `<${context.taskId}@conveyor>`, rejected: [] });
    expect((output as { accepted: string[] }).accepted.sort()).toEqual(['cc@example.com', 'hidden@example.com', 'other@example.com', 'user@example.com']);
  });

  it('sends the same Message-ID on a retried attempt, so the receiver can recognise it', async () => {
    const first = taskContext({ idempotencyKey: 'order-42 confirmation' });
    const second = taskContext({ taskId: first.taskId, idempotencyKey: 'order-42 confirmation', attempt: 2 });
    const payload = { to: 'user@example.com', subject: 'Order 42', body: 'Shipped' };
    await task().handler(payload, first);
    await task().handler(payload, second);
    const [a, b] = smtp.received.slice(-2).map((m) => headers(m.raw).get('message-id')![0]!);
    expect(a).toBe(b);
    // A free-text key is hashed: it cannot break the header or show up at the recipient.
    expect(a).toMatch(/^<k-[0-9a-f]{40}@conveyor>$/);
  });

  it.each([
    ['subject', { to: 'user@example.com', subject: 'Hi\r\nBcc: evil@attacker.example', body: 'x' }],
    ['subject (LF only)', { to: 'user@example.com', subject: 'Hi\nBcc: evil@attacker.example', body: 'x' }],
    ['to', { to: 'user@example.com\r\nBcc: evil@attacker.example', subject: 'Hi', body: 'x' }],
    ['cc', { to: 'user@example.com', cc: ['ok@example.com', 'x@example.com\nBcc: evil@attacker.example'], subject: 'Hi', body: 'x' }],
    ['reply_to', { to: 'user@example.com', reply_to: 'a@example.com\r\nBcc: evil@attacker.example', subject: 'Hi', body: 'x' }],
    ['to with a display name', { to: 'Evil <evil@attacker.example>, user@example.com', subject: 'Hi', body: 'x' }],
  ])('refuses a header injection in %s: schema and handler both, nothing reaches the wire', async (_field, payload) => {
    const registry = new TaskRegistry().register(task());
    expect(() => registry.validatePayload('email', payload)).toThrow();
    const before = smtp.received.length;
    await expect(task().handler(payload as never, taskContext())).rejects.toBeInstanceOf(PermanentTaskError);
    expect(smtp.received.length).toBe(before);
    expect(smtp.received.some((m) => m.raw.includes('evil@attacker.example') || m.rcpt.includes('evil@attacker.example'))).toBe(false);
  });

  it('retries an SMTP 4xx and dead-letters a 5xx', async () => {
    const greylisted = task().handler({ to: 'greylisted@example.com', subject: 'Hi', body: 'x' }, taskContext());
    await expect(greylisted).rejects.toBeInstanceOf(RetryableTaskError);
    await expect(greylisted).rejects.toThrow(/451/);
    const refused = task().handler({ to: 'nobody@example.com', subject: 'Hi', body: 'x' }, taskContext());
    await expect(refused).rejects.toBeInstanceOf(PermanentTaskError);
    await expect(refused).rejects.toThrow(/550/);
  });

  it('reports a partly refused recipient list and delivers to the rest', async () => {
    const output = await task().handler({ to: ['user@example.com', 'nobody@example.com'], subject: 'Hi', body: 'x' }, taskContext());
    expect(output).toMatchObject({ accepted: ['user@example.com'], rejected: ['nobody@example.com'] });
  });

  it('retries when the SMTP server cannot be reached', async () => {
    const closed = await startSmtp();
    await closed.close();
    const unreachable = createEmailTask({ smtpUrl: closed.url, from: 'conveyor@example.org', outboxDir: outbox });
    await expect(unreachable.handler({ to: 'user@example.com', subject: 'Hi', body: 'x' }, taskContext())).rejects.toBeInstanceOf(RetryableTaskError);
  });
});

describe('email to the outbox (no SMTP configured)', () => {
  const task = () => createEmailTask({ from: 'conveyor@example.org', outboxDir: outbox });

  it("completes the guide's example and writes a real .eml named by the task id", async () => {
    const context = taskContext();
    const payload = { to: 'user@example.com', subject: 'Welcome!', body: 'Thanks for signing up' };
    new TaskRegistry().register(task()).validatePayload('email', payload);
    const output = (await task().handler(payload, context)) as { path: string; message_id: string; mode: string };
    expect(output.mode).toBe('outbox');
    expect(output.path).toBe(join(outbox, `${context.taskId}.eml`));
    const raw = readFileSync(output.path, 'utf8');
    const h = headers(raw);
    expect(h.get('message-id')).toEqual([`<${context.taskId}@conveyor>`]);
    expect(h.get('subject')).toEqual(['Welcome!']);
    expect(h.get('to')).toEqual(['user@example.com']);
    expect(raw).toContain('\r\n');
    expect(raw).toContain('Thanks for signing up');
    // A retried attempt rewrites the same file.
    const again = (await task().handler(payload, taskContext({ taskId: context.taskId, attempt: 2 }))) as { path: string };
    expect(again.path).toBe(output.path);
  });

  it('refuses more than the recipient cap', async () => {
    const to = Array.from({ length: MAX_RECIPIENTS }, (_, i) => `user${i}@example.com`);
    await expect(task().handler({ to, cc: 'one-more@example.com', subject: 'Hi', body: 'x' }, taskContext())).rejects.toThrow(/at most 50 recipients/);
  });

  it('accepts ordinary addresses and refuses malformed ones in the schema', () => {
    const registry = new TaskRegistry().register(task());
    for (const to of ['a@b.co', 'first.last+tag@sub.example.org', "o'brien@example.ie"]) {
      expect(() => registry.validatePayload('email', { to, subject: 's', body: 'b' })).not.toThrow();
    }
    for (const to of ['plain', 'a@b', '@example.com', 'a@@example.com', 'a b@example.com', 'a@example..com', 'a.@example.com', '"q"@example.com', 'a@[127.0.0.1]']) {
      expect(() => registry.validatePayload('email', { to, subject: 's', body: 'b' }), to).toThrow();
    }
    expect(() => registry.validatePayload('email', { to: 'a@b.co', subject: 's', body: 'b', attachments: [{ path: '/etc/passwd' }] })).toThrow();
  });
});
