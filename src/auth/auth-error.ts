/**
 * Authentication failures, kept apart from ConveyorError because they are about the caller, not the
 * data: the API answers them 401 (or 429 while throttled) with the same words whatever the cause, so
 * that an unknown user, a wrong password and an inactive account cannot be told apart.
 */
export type AuthErrorKind = 'invalid_credentials' | 'unauthenticated' | 'throttled';

export class AuthError extends Error {
  readonly kind: AuthErrorKind;
  /** For `throttled`: how long until another try is allowed. */
  readonly retryAfterMs: number;

  constructor(kind: AuthErrorKind, message: string, retryAfterMs = 0) {
    super(message);
    this.name = 'AuthError';
    this.kind = kind;
    this.retryAfterMs = retryAfterMs;
  }
}

export const invalidCredentials = () => new AuthError('invalid_credentials', 'Invalid username/email or password');
