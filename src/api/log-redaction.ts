/**
 * What never reaches a log line from the API: credentials in headers and any field named like a
 * password or token, at the top level or one object down (pino `redact` paths). The API itself logs
 * no bodies; this is the safety net for whatever a future log call passes.
 */
export const API_LOG_REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'password',
  'token',
  'session_token',
  'passwordHash',
  'password_hash',
  '*.password',
  '*.token',
  '*.session_token',
  '*.passwordHash',
  '*.password_hash',
  '*.authorization',
];
