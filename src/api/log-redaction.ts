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

const REDACTED = '[redacted]';

/**
 * A URL as it may be logged: every query value replaced (the keys stay, so a log still says which
 * parameters a request had). Clients put tokens in query strings however often they are told not
 * to (`?token=`, `?api_key=`), and a log is read by more people than the API's users.
 * The fragment goes too; it never reaches a server, but a logged full URL could carry one.
 */
export function redactUrlQuery(url: string): string {
  const hash = url.indexOf('#');
  const withoutFragment = hash === -1 ? url : url.slice(0, hash);
  const mark = withoutFragment.indexOf('?');
  if (mark === -1) return withoutFragment;
  const query = withoutFragment.slice(mark + 1);
  if (query === '') return withoutFragment;
  const keys = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return eq === -1 ? pair : `${pair.slice(0, eq)}=${REDACTED}`;
  });
  return `${withoutFragment.slice(0, mark)}?${keys.join('&')}`;
}

/** Fastify's request serializer (method, url, host, address), with the query values redacted. */
export function serializeRequest(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }): object {
  return {
    method: req.method,
    url: req.url === undefined ? undefined : redactUrlQuery(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}
