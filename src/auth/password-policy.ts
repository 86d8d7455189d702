import { validationError } from '../core/errors.ts';
import type { PasswordPolicy } from './auth-config.ts';
import { COMMON_PASSWORDS } from './common-passwords.ts';

const CLASSES: { name: string; test: RegExp }[] = [
  { name: 'lower-case letters', test: /\p{Ll}/u },
  { name: 'upper-case letters', test: /\p{Lu}/u },
  { name: 'digits', test: /\p{Nd}/u },
  { name: 'symbols', test: /[^\p{L}\p{Nd}]/u },
];

/**
 * The starter's password rules, configurable: 8–128 characters, at least 3 of {lower, upper, digit,
 * symbol}, not a common password, and not the account's own username or email. Throws a validation
 * error on `password` explaining the first rule broken.
 */
export function checkPassword(password: string, policy: PasswordPolicy, account: { username?: string; email?: string } = {}): void {
  const length = [...password].length;
  if (length < policy.minLength || length > policy.maxLength) {
    throw validationError('password', `must be ${policy.minLength}-${policy.maxLength} characters long`);
  }
  const present = CLASSES.filter((c) => c.test.test(password)).length;
  if (present < policy.minClasses) {
    throw validationError('password', `must mix at least ${policy.minClasses} of: ${CLASSES.map((c) => c.name).join(', ')}`);
  }
  const lower = password.toLowerCase();
  if (policy.rejectCommon && COMMON_PASSWORDS.has(lower)) {
    throw validationError('password', 'is too common; choose one that is not on breached-password lists');
  }
  if ((account.username && lower === account.username.toLowerCase()) || (account.email && lower === account.email.toLowerCase())) {
    throw validationError('password', 'must not be the username or email');
  }
}
