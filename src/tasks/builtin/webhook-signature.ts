import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks 1.0 signing (https://www.standardwebhooks.com): the receiver gets `webhook-id`,
 * `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256>` over the exact
 * bytes `{id}.{timestamp}.{body}`. Any receiver library of the standard (svix, standardwebhooks)
 * verifies what this module signs.
 */

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The HMAC key of a secret. As the standard has it, `whsec_<base64>` is base64-decoded (the form its
 * libraries generate); any other secret is used as its UTF-8 bytes.
 */
export function webhookSecretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) return Buffer.from(secret, 'utf8');
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) throw new Error('a webhook secret starting with whsec_ must continue in base64');
  return Buffer.from(encoded, 'base64');
}

export interface SignedContent {
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: string | Uint8Array;
}

/** `v1,<base64 signature>` for one key. */
export function signWebhook(key: Uint8Array, content: SignedContent): string {
  return `v1,${digest(key, content).toString('base64')}`;
}

function digest(key: Uint8Array, { id, timestamp, body }: SignedContent): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest();
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'no_matching_signature' | 'stale_timestamp' | 'bad_headers' };

/**
 * What a receiver does (and what the tests do): checks the timestamp is within `toleranceSeconds` of
 * `now`, then accepts if any of the space-separated `v1,` signatures (several during a secret
 * rotation) matches, comparing fixed-length digests in constant time.
 */
export function verifyWebhook(p: {
  secret: string;
  headers: { id: string | undefined; timestamp: string | undefined; signature: string | undefined };
  body: string | Uint8Array;
  nowSeconds: number;
  toleranceSeconds?: number;
}): VerifyResult {
  const { id, timestamp, signature } = p.headers;
  if (!id || !timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad_headers' };
  const seconds = Number(timestamp);
  if (Math.abs(p.nowSeconds - seconds) > (p.toleranceSeconds ?? 300)) return { ok: false, reason: 'stale_timestamp' };
  const expected = digest(webhookSecretKey(p.secret), { id, timestamp: seconds, body: p.body });
  for (const candidate of signature.split(' ')) {
    const [version, encoded] = candidate.split(',', 2);
    if (version !== 'v1' || encoded === undefined) continue;
    const given = Buffer.from(encoded, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'no_matching_signature' };
}
