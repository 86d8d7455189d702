import { createHash } from 'node:crypto';

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * The id a handler shows the outside world for a task (a webhook-id, the local part of an email
 * Message-ID), derived from the task's idempotency key so that every attempt of the task sends the
 * same one and the receiver can recognise a retry. A key that is already a plain token (the task's
 * UUID, usually) is used as it is; any other key (a user's free text) is hashed, so it can neither
 * break a header nor leak to recipients.
 */
export function externalId(idempotencyKey: string): string {
  if (SAFE_ID.test(idempotencyKey)) return idempotencyKey;
  return `k-${createHash('sha256').update(idempotencyKey, 'utf8').digest('hex').slice(0, 40)}`;
}
