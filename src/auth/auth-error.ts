/**
 * Authentication failures, kept apart from ConveyorError because they are about the caller, not the
 * data: the API answers them 401 (or 429 while throttled) with the same words whatever the cause, so
 * that an unknown user, a wrong password and an inactive account cannot be told apart.
 */
export type AuthErrorKind = 'invalid_credentials' | 'unauthenticated' | 'throttled' | 'forbidden';

export class AuthError extends Error {
  readonly kind: AuthErrorKind;
  /** For `throttled`: how long until another try is allowed. */
  readonly retryAfterMs: number;
  /** For `forbidden`: the input the refusal is about (`current_password`, `invitation_token`), if any. */
  readonly field: string | undefined;

  constructor(kind: AuthErrorKind, message: string, retryAfterMs = 0, field?: string) {
    super(message);
    this.name = 'AuthError';
    this.kind = kind;
    this.retryAfterMs = retryAfterMs;
    this.field = field;
  }
}

export const invalidCredentials = () => new AuthError('invalid_credentials', 'Invalid username/email or password');

/** Refused for a reason the caller may know (403): registration closed, a wrong current password. */
export const forbidden = (message: string, field?: string) => new AuthError('forbidden', message, 0, field);
