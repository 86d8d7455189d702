import type { FastifyInstance } from 'fastify';
import { toErrorResponse } from '../error-response.ts';

/**
 * Every error, Fastify's own included (validation, malformed JSON, body too large, unknown route),
 * leaves as the JSON envelope with a code; a 5xx is logged with its stack, which stays in the log.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const response = toErrorResponse(error);
    if (response.fault) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: response.body.error.code, status: response.status }, 'request refused');
    if (response.retryAfterMs !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(response.retryAfterMs / 1000))));
    return reply.status(response.status).send(response.body);
  });

  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send({ success: false, error: { code: 'NOT_FOUND', message: `No route ${request.method} ${request.url.split('?')[0]}` } });
  });
}
