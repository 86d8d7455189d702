import type { FastifyBaseLogger } from 'fastify';
import type { Logger } from '../core/logger.ts';
import { API_LOG_REDACT_PATHS, redactUrlQuery, serializeRequest } from './log-redaction.ts';

/**
 * Fastify wants a pino-shaped logger (fatal, trace, level, child). A pino instance is passed through;
 * any other core Logger (tests' silentLogger, a custom one) is adapted. A pino logger gets a child
 * that redacts credentials and query values in request URLs, whatever the root logger's own settings
 * (its `req` serializer takes the place of Fastify's, which logs the URL as it came).
 */
export function toFastifyLogger(logger: Logger): FastifyBaseLogger {
  const candidate = logger as Partial<FastifyBaseLogger>;
  if (typeof candidate.fatal === 'function' && typeof candidate.trace === 'function' && typeof candidate.level === 'string') {
    const pinoChild = candidate.child as unknown as (bindings: object, options: object) => FastifyBaseLogger;
    return pinoChild.call(logger, {}, { redact: { paths: [...API_LOG_REDACT_PATHS], censor: '[redacted]' }, serializers: { req: serializeRequest } });
  }
  return adapt(logger);
}

function adapt(logger: Logger): FastifyBaseLogger {
  const call = (method: 'debug' | 'info' | 'warn' | 'error') => (objOrMsg: unknown, msg?: string) => {
    if (typeof objOrMsg === 'string') logger[method]({}, objOrMsg);
    else logger[method](serialize((objOrMsg ?? {}) as Record<string, unknown>), msg);
  };
  return {
    level: 'info',
    fatal: call('error'),
    error: call('error'),
    warn: call('warn'),
    info: call('info'),
    debug: call('debug'),
    trace: () => {},
    silent: () => {},
    child: (bindings: Record<string, unknown>) => adapt(logger.child(bindings)),
  } as unknown as FastifyBaseLogger;
}

/** What pino's serializers would keep of Fastify's request, reply and error objects. */
function serialize(obj: Record<string, unknown>): object {
  if (!('req' in obj) && !('res' in obj) && !('err' in obj)) return obj;
  const out: Record<string, unknown> = { ...obj };
  const req = obj.req as { method?: string; url?: string; ip?: string } | undefined;
  if (req) out.req = { method: req.method, url: req.url === undefined ? undefined : redactUrlQuery(req.url), remoteAddress: req.ip };
  const res = obj.res as { statusCode?: number } | undefined;
  if (res) out.res = { statusCode: res.statusCode };
  const err = obj.err as { message?: string; stack?: string; code?: string } | undefined;
  if (err instanceof Error) out.err = { type: err.name, message: err.message, stack: err.stack, code: (err as { code?: string }).code };
  return out;
}
