import type { FastifyError } from 'fastify';
import { AuthError } from '../auth/auth-error.ts';
import { ConveyorError, ERROR_CODES } from '../core/errors.ts';
import { ApiError } from './api-error.ts';
import { validationFailure } from './validation-failure.ts';

export interface ErrorBody {
  success: false;
  error: { code: string; message: string; field?: string; details?: Record<string, unknown> };
}

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  retryAfterMs?: number | undefined;
  /** True when the error is ours to log as a fault (5xx), not the client's. */
  fault: boolean;
}

const FASTIFY_CODES: Record<string, [string, string?]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['INVALID_JSON', 'The body is not valid JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['INVALID_JSON', 'The body is empty but its content-type is application/json'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 'The request body is larger than this route accepts'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['BAD_REQUEST', 'The content-length does not match the body'],
};

/**
 * Turns anything thrown while handling a request into the error envelope and its status. Unknown
 * errors become a 500 with a generic message: driver errors and stack traces never reach clients.
 */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (error instanceof ApiError) {
    return make(error.statusCode, error.code, error.message, error.field, error.details, error.retryAfterMs);
  }
  if (error instanceof AuthError) {
    if (error.kind === 'throttled') return make(429, 'TOO_MANY_LOGIN_ATTEMPTS', error.message, undefined, undefined, error.retryAfterMs);
    if (error.kind === 'forbidden') return make(403, 'FORBIDDEN', error.message, error.field);
    return make(401, error.kind === 'invalid_credentials' ? 'INVALID_CREDENTIALS' : 'UNAUTHORIZED', error.message);
  }
  if (error instanceof ConveyorError) return fromConveyorError(error);

  const fastifyError = error as Partial<FastifyError> & { validation?: unknown };
  if (Array.isArray(fastifyError.validation)) {
    const failure = validationFailure(fastifyError as FastifyError);
    return make(400, 'VALIDATION_FAILED', failure.message, failure.field, failure.details);
  }
  const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known) return make(fastifyError.statusCode ?? 400, known[0], known[1] ?? String(fastifyError.message));
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's and its plugins' client errors: their messages describe the request, not our internals.
    const code = status === 429 ? 'RATE_LIMITED' : status === 404 ? 'NOT_FOUND' : status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST';
    return make(status, code, String(fastifyError.message ?? 'Bad request'));
  }
  return { ...make(500, 'INTERNAL_ERROR', 'An internal error occurred; it has been logged'), fault: true };
}

function fromConveyorError(error: ConveyorError): ErrorResponse {
  switch (error.code) {
    case ERROR_CODES.VALIDATION:
      return make(400, 'VALIDATION_FAILED', error.message, error.field, error.details);
    case ERROR_CODES.NOT_FOUND:
      return make(404, 'NOT_FOUND', error.message, error.field);
    case ERROR_CODES.INVALID_STATE:
      return make(409, 'INVALID_STATE', error.message, error.field, error.details);
    case ERROR_CODES.CONFLICT:
      return make(409, 'CONFLICT', error.message, error.field, error.details);
    case ERROR_CODES.DATABASE_UNAVAILABLE:
      return { ...make(503, 'SERVICE_UNAVAILABLE', 'The database is unavailable; try again shortly', undefined, undefined, 5_000), fault: true };
    default:
      return { ...make(500, 'INTERNAL_ERROR', 'An internal error occurred; it has been logged'), fault: true };
  }
}

function make(status: number, code: string, message: string, field?: string, details?: Record<string, unknown>, retryAfterMs?: number): ErrorResponse {
  const body: ErrorBody = { success: false, error: { code, message } };
  if (field !== undefined) body.error.field = field;
  if (details !== undefined) body.error.details = details;
  return { status, body, retryAfterMs, fault: status >= 500 };
}
