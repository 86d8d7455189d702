/**
 * The error answers of the API, once each, for the OpenAPI document: every operation refers to these
 * (`#/components/responses/NotFound`) instead of describing its errors anew. Every one has the error
 * envelope as its body; `code` in the example is the usual code for that status.
 */
export interface ErrorResponseDoc {
  /** The name under components.responses. */
  name: string;
  description: string;
  code: string;
  message: string;
  field?: string;
}

export const ERROR_RESPONSES: Record<string, ErrorResponseDoc> = {
  400: {
    name: 'BadRequest',
    description: 'The request is invalid: VALIDATION_FAILED (`error.field` names the field, e.g. `payload.to`), INVALID_JSON, JSON_TOO_DEEP (nested deeper than 64 levels) or BAD_REQUEST',
    code: 'VALIDATION_FAILED',
    message: 'payload.to: must be an email address',
    field: 'payload.to',
  },
  401: {
    name: 'Unauthorized',
    description: 'No valid session: send `Authorization: Bearer <session_token>` from POST /auth/login (UNAUTHORIZED), or wrong credentials (INVALID_CREDENTIALS)',
    code: 'UNAUTHORIZED',
    message: 'Missing or invalid bearer token',
  },
  403: { name: 'Forbidden', description: 'Signed in, but the route needs a higher role (FORBIDDEN)', code: 'FORBIDDEN', message: 'This needs the admin role' },
  404: {
    name: 'NotFound',
    description: 'No such resource, or not one you may see (NOT_FOUND): another user\'s task answers 404, not 403',
    code: 'NOT_FOUND',
    message: 'Task not found',
  },
  409: {
    name: 'Conflict',
    description: 'The resource is not in a state that allows this (INVALID_STATE; `error.details.status` is its status), or the change clashes with another (CONFLICT)',
    code: 'INVALID_STATE',
    message: 'The task is already completed and cannot be cancelled',
  },
  413: { name: 'PayloadTooLarge', description: 'The body is larger than the route accepts (PAYLOAD_TOO_LARGE)', code: 'PAYLOAD_TOO_LARGE', message: 'The request body is larger than this route accepts' },
  415: { name: 'UnsupportedMediaType', description: 'The body is not `application/json` (UNSUPPORTED_MEDIA_TYPE)', code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the body as application/json' },
  422: {
    name: 'UnprocessableContent',
    description: 'Valid, but not allowed for your role: RECIPIENT_NOT_ALLOWED (an email recipient outside the domains your role may send to; `error.field` names it)',
    code: 'RECIPIENT_NOT_ALLOWED',
    message: 'payload.to: stranger@elsewhere.org is outside the domains the role user may email (example.com)',
    field: 'payload.to',
  },
  429: {
    name: 'TooManyRequests',
    description:
      'Too many requests: QUOTA_EXCEEDED (a quota of your role, counted in tasks: `error.details.quota` names it — tasks_per_minute, waiting_tasks, payload_bytes or ' +
      'email_recipients_per_day — with `limit`, `used` and `requested`; nothing of the request was created), RATE_LIMITED (task-creating requests per user, ' +
      'registrations per address, or any request when the server limits requests per address) or TOO_MANY_LOGIN_ATTEMPTS; wait the `Retry-After` header\'s seconds',
    code: 'RATE_LIMITED',
    message: 'Too many task creations; slow down',
  },
  503: {
    name: 'ServiceUnavailable',
    description: 'The database does not answer, or the service cannot serve yet (SERVICE_UNAVAILABLE); retry after `Retry-After` seconds when given',
    code: 'SERVICE_UNAVAILABLE',
    message: 'The database is unavailable; try again shortly',
  },
  default: {
    name: 'UnexpectedError',
    description:
      'Any other error, in the same envelope: INTERNAL_ERROR (500, logged with the request id; never a stack trace) or SERVICE_UNAVAILABLE (503) when the database does not answer',
    code: 'INTERNAL_ERROR',
    message: 'An internal error occurred; it has been logged',
  },
};
