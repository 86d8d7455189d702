import { createHash, randomBytes } from 'node:crypto';

/**
 * Session tokens: 256 random bits, base64url (43 characters), opaque. Only their SHA-256 is stored,
 * so a copy of the database cannot be replayed as logins (The Copenhagen Book, "server-side tokens").
 * A fast hash is right here: the token has full entropy, unlike a password.
 */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Rejects anything that cannot be a token before it costs a database round trip. */
export function looksLikeSessionToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}
