import { validationError } from '../core/errors.ts';

const USERNAME_PATTERN = /^[A-Za-z0-9_-]{3,50}$/;
// RFC 5321-shaped and deliberately narrow: no quoted locals, no IP literals, no spaces or CR/LF.
const EMAIL_PATTERN = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** The starter's username rule: 3–50 characters of letters, digits, `_` and `-`. */
export function checkUsername(username: string): void {
  if (!USERNAME_PATTERN.test(username)) throw validationError('username', 'must be 3-50 characters of letters, digits, _ and -');
}

export function checkEmail(email: string): void {
  if (email.length > 254 || !EMAIL_PATTERN.test(email) || email.includes('..') || email.startsWith('.') || email.split('@')[0]!.endsWith('.')) {
    throw validationError('email', 'must be a valid email address');
  }
}
