/** The error codes clients see in `error.code`; stable, documented, never a driver's message. */
export const API_ERROR_CODES = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  JSON_TOO_DEEP: 400,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INVALID_STATE: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RECIPIENT_NOT_ALLOWED: 422,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  TOO_MANY_LOGIN_ATTEMPTS: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_CODES;

export interface ApiErrorOptions {
  field?: string | undefined;
  details?: Record<string, unknown> | undefined;
  /** Sent as Retry-After (whole seconds, rounded up) on 429 and 503. */
  retryAfterMs?: number | undefined;
}

/** An error the API answers as-is: its HTTP status follows from its code. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly statusCode: number;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: ApiErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = API_ERROR_CODES[code];
    this.field = options.field;
    this.details = options.details;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export const notFound = (what = 'Task') => new ApiError('NOT_FOUND', `${what} not found`);
