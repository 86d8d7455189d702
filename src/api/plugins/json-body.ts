import type { FastifyInstance } from 'fastify';
import { ApiError } from '../api-error.ts';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../json-depth.ts';

/**
 * Fastify's own JSON parser (prototype-poisoning checks included: `__proto__` and `constructor.prototype`
 * answer 400), except that an empty body is no body: curl's `-H 'Content-Type: application/json'` on a
 * bodyless POST /auth/logout must not fail. Nesting is bounded before anything parses: JSON nested
 * 10,000 deep overflowed a recursive step after JSON.parse (a 500); it is a 400 naming the limit.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  // Every body is JSON: a text/plain body is refused with 415 instead of reaching validation as a string.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    if (jsonDepthExceeds(text)) {
      return done(new ApiError('JSON_TOO_DEEP', `The body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`, { details: { max_depth: MAX_JSON_DEPTH } }), undefined);
    }
    return parse(request, text, done);
  });
}
