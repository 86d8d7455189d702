import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { createTransport, type SendMailOptions, type Transporter } from 'nodemailer';
import type { JsonObject } from '../../core/task.ts';
import { PermanentTaskError } from '../../core/task-errors.ts';
import { defineTask, type TaskDefinition } from '../define-task.ts';
import type { TaskContext } from '../task-context.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { EMAIL_ADDRESS_MAX_LENGTH, EMAIL_ADDRESS_PATTERN, isEmailAddress } from './email-address.ts';
import { externalId } from './external-id.ts';
import { smtpError } from './smtp-errors.ts';

export interface EmailSettings {
  /** `smtp://user:pass@host:587`, `smtps://...`; unset means messages are written to `outboxDir`. */
  smtpUrl?: string | undefined;
  /** The From address of every message (configuration, so trusted). */
  from: string;
  outboxDir: string;
  /**
   * Send SMTP credentials over a connection without TLS. Off (the default): an smtp:// URL with a user
   * requires STARTTLS (nodemailer's requireTLS), so a server that does not offer it fails the task
   * rather than receive the password in clear text.
   */
  allowPlaintextAuth?: boolean | undefined;
  /**
   * Asked before every message is sent or written: may this task's owner write to these recipients?
   * Null allows; a string is the reason it may not (the task fails permanently with it). The CLI
   * checks the owner's role's email domains and daily recipient cap in the database, so a task that
   * reached the queue without the API (the library, an import) is held to the same rules.
   */
  checkRecipients?: RecipientCheck | undefined;
}

export type RecipientCheck = (p: { ownerId: string | null; taskId: string; recipients: readonly string[] }) => Promise<string | null>;

/** To, cc and bcc together: enough for a notification, too few to make Conveyor a bulk mailer. */
export const MAX_RECIPIENTS = 50;
const MAX_BODY_LENGTH = 512 * 1024;
/** Header fields may hold no line break (CR or LF) and no NUL: that is how a header is injected. */
const ONE_LINE = '^[^\\r\\n\\x00]*$';
const LINE_BREAK = /[\r\n\0]/;

const Address = Type.String({
  maxLength: EMAIL_ADDRESS_MAX_LENGTH,
  pattern: EMAIL_ADDRESS_PATTERN,
  description: 'A bare address, local@domain',
  errorMessage: 'must be an email address',
});
const Addresses = Type.Union([Address, Type.Array(Address, { minItems: 1, maxItems: MAX_RECIPIENTS })]);

const EmailPayload = Type.Object(
  {
    to: Addresses,
    subject: Type.String({ maxLength: 998, pattern: ONE_LINE, description: 'One line, no CR or LF', errorMessage: 'must be one line (no CR, LF or NUL)' }),
    body: Type.String({ maxLength: MAX_BODY_LENGTH, description: 'The plain-text body' }),
    html: Type.Optional(Type.String({ maxLength: MAX_BODY_LENGTH, description: 'An HTML alternative to the body' })),
    cc: Type.Optional(Addresses),
    bcc: Type.Optional(Addresses),
    reply_to: Type.Optional(Address),
  },
  { additionalProperties: false },
);
type EmailPayload = Static<typeof EmailPayload>;

/** Connection limits for SMTP: nodemailer's defaults (2 minutes to connect, 10 idle) outlast a task. */
const SMTP_TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 60_000 };

/**
 * `email`: sends a message over SMTP, or writes it as an `.eml` file to the outbox folder when no SMTP
 * server is configured (so the guide's flow completes with nothing installed). The Message-ID comes
 * from the task's idempotency key, so a message sent again by a retried attempt carries the same id
 * and the receiving side can tell it is a duplicate.
 */
export function createEmailTask(settings: EmailSettings): TaskDefinition<typeof EmailPayload> {
  let smtp: Transporter | undefined;
  const smtpTransport = (url: string) =>
    (smtp ??= createTransport({ url, ...SMTP_TIMEOUTS, ...tlsOptions(url, settings.allowPlaintextAuth === true), disableFileAccess: true, disableUrlAccess: true }));

  return defineTask({
    name: 'email',
    description:
      'Sends an email (SMTP when configured, otherwise an .eml file in the outbox folder). Message-ID is stable across retries; SMTP 4xx answers are retried, 5xx are permanent.',
    payload: EmailPayload,
    examples: [
      { to: 'user@example.com', subject: 'Welcome!', body: 'Thanks for signing up' },
      { to: ['a@example.com', 'b@example.com'], cc: 'team@example.com', subject: 'Weekly report', body: 'See the numbers below.', html: '<p>See the numbers below.</p>', reply_to: 'reports@example.com' },
    ],
    timeoutMs: 120_000,
    async handler(payload, context) {
      const message = buildMessage(payload, settings.from, context);
      const recipients = countRecipients(payload);
      if (settings.checkRecipients) {
        const refusal = await settings.checkRecipients({ ownerId: context.createdBy, taskId: context.taskId, recipients: emailRecipients(payload).map((r) => r.address) });
        if (refusal !== null) throw new PermanentTaskError(refusal);
      }
      if (settings.smtpUrl) {
        let info;
        try {
          info = await smtpTransport(settings.smtpUrl).sendMail(message);
        } catch (error) {
          if (context.signal.aborted) throw context.signal.reason;
          throw smtpError(error);
        }
        context.logger.info({ messageId: info.messageId, recipients }, 'email sent over SMTP');
        return {
          mode: 'smtp',
          message_id: info.messageId,
          accepted: addressList(info.accepted),
          rejected: addressList(info.rejected),
          response: typeof info.response === 'string' ? info.response.slice(0, 300) : null,
        } satisfies JsonObject;
      }
      return writeToOutbox(message, settings.outboxDir, context, recipients);
    },
  });
}

/**
 * With credentials in an smtp:// URL, STARTTLS is required unless plaintext authentication is allowed
 * explicitly: nodemailer otherwise sends AUTH in clear text to a server that offers no STARTTLS.
 * (smtps:// is TLS from the first byte; without credentials there is no password to leak.)
 */
export function tlsOptions(url: string, allowPlaintextAuth: boolean): { requireTLS?: boolean; ignoreTLS?: boolean } {
  if (allowPlaintextAuth) return {};
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { requireTLS: true };
  }
  if (parsed.protocol !== 'smtp:' || (parsed.username === '' && parsed.password === '')) return {};
  return { requireTLS: true, ignoreTLS: false };
}

function buildMessage(payload: EmailPayload, from: string, context: TaskContext): SendMailOptions {
  assertHeadersSafe(payload);
  if (countRecipients(payload) > MAX_RECIPIENTS) {
    throw new PermanentTaskError(`an email may have at most ${MAX_RECIPIENTS} recipients (to, cc and bcc together)`);
  }
  return {
    from,
    to: list(payload.to),
    cc: payload.cc === undefined ? undefined : list(payload.cc),
    bcc: payload.bcc === undefined ? undefined : list(payload.bcc),
    replyTo: payload.reply_to,
    subject: payload.subject,
    text: payload.body,
    html: payload.html,
    messageId: `<${externalId(context.idempotencyKey)}@conveyor>`,
    // The payload is user input: never let it name a file or URL for nodemailer to read.
    disableFileAccess: true,
    disableUrlAccess: true,
    signal: context.signal,
  };
}

/**
 * The schema already refuses these, but a handler must not rely on every caller having checked the
 * payload (a task inserted through the library, an older schema): a header-injection attempt fails
 * here, permanently, before anything is written or sent.
 */
function assertHeadersSafe(payload: EmailPayload): void {
  const fields: [string, string | string[] | undefined][] = [
    ['to', payload.to],
    ['cc', payload.cc],
    ['bcc', payload.bcc],
    ['reply_to', payload.reply_to],
    ['subject', payload.subject],
  ];
  for (const [field, value] of fields) {
    if (value === undefined) continue;
    for (const item of list(value)) {
      if (LINE_BREAK.test(item)) throw new PermanentTaskError(`payload.${field} contains a line break (CR, LF) or NUL; header injection refused`);
      if (field !== 'subject' && !isEmailAddress(item)) throw new PermanentTaskError(`payload.${field}: "${item.slice(0, 80)}" is not a valid email address`);
    }
  }
}

async function writeToOutbox(message: SendMailOptions, outboxDir: string, context: TaskContext, recipients: number): Promise<JsonObject> {
  const stream = createTransport({ streamTransport: true, buffer: true, newline: 'windows', disableFileAccess: true, disableUrlAccess: true });
  let info;
  try {
    info = await stream.sendMail(message);
  } catch (error) {
    if (context.signal.aborted) throw context.signal.reason;
    throw smtpError(error);
  }
  // The file is named by task id, so a retried attempt rewrites its own file instead of adding one.
  const path = join(outboxDir, `${externalId(context.taskId)}.eml`);
  const bytes = info.message as Buffer;
  await writeFileAtomic(path, bytes);
  context.logger.info({ messageId: info.messageId, recipients, path }, 'email written to the outbox');
  return {
    mode: 'outbox',
    message_id: info.messageId,
    path,
    bytes: bytes.length,
    envelope: { from: info.envelope.from || null, to: [...info.envelope.to] },
  };
}

function list(value: string | string[]): string[] {
  return Array.isArray(value) ? value : [value];
}

function countRecipients(payload: EmailPayload): number {
  return list(payload.to).length + (payload.cc ? list(payload.cc).length : 0) + (payload.bcc ? list(payload.bcc).length : 0);
}

/**
 * Every recipient of an email payload with the field it is in (`to`, `cc`, `bcc`), for the recipient
 * policy; the strings found where addresses belong, whatever the payload's other fields are.
 */
export function emailRecipients(payload: unknown): { field: 'to' | 'cc' | 'bcc'; address: string }[] {
  if (payload === null || typeof payload !== 'object') return [];
  const found: { field: 'to' | 'cc' | 'bcc'; address: string }[] = [];
  for (const field of ['to', 'cc', 'bcc'] as const) {
    const value = (payload as Record<string, unknown>)[field];
    for (const item of Array.isArray(value) ? value : [value]) if (typeof item === 'string') found.push({ field, address: item });
  }
  return found;
}

function addressList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map((item) => (typeof item === 'string' ? item : String((item as { address?: string }).address ?? item)));
}

