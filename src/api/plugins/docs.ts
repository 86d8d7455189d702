import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.ts';
import { API_PREFIX } from '../routes/api-routes.ts';
import { documentRoute } from './openapi-route.ts';
import { finishDocument } from './openapi-finish.ts';

/**
 * The OpenAPI 3 document, generated from the same TypeBox schemas that validate requests, at
 * /api-docs/openapi.json, and swagger-ui at /api-docs. Must be installed before the routes.
 * Each route also answers under /api/v1; the document lists the guide's paths once (the prefixed
 * copies are hidden, so every operationId appears once). `redocly lint` passes on it with the
 * recommended rules (test/api/openapi-lint.test.ts); clients are generated from it (src/client/http).
 */
export async function installDocs(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Conveyor API',
        version: ctx.version,
        description:
          'Durable background tasks. Every response is `{"success": true, "data": ...}` or `{"success": false, "error": {"code", "message", "field"?, "details"?}}`. ' +
          'Sign in with POST /auth/login and send `Authorization: Bearer <session_token>`. ' +
          `Every path also answers under \`${API_PREFIX}\`. Calling it from curl, Python, Go or TypeScript: docs/clients.md.`,
        license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
      },
      // Relative: the server that serves this document (swagger-ui's "try it out" calls it).
      servers: [{ url: '/', description: 'This Conveyor API server' }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'session_token from POST /auth/login' } } },
      tags: [
        { name: 'auth', description: 'Accounts and sessions' },
        { name: 'tasks', description: 'Create, follow and manage tasks' },
        { name: 'schedules', description: 'Recurring tasks on a cron schedule' },
        { name: 'monitoring', description: 'Workers, circuit breakers, health, live events' },
        { name: 'users', description: 'Account administration (admins)' },
      ],
    },
    // Shared schemas keep their names (components/schemas/TaskDetail) rather than def-0, def-1...
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    transform: documentRoute,
    transformObject: (document) => finishDocument(('openapiObject' in document ? document.openapiObject : document.swaggerObject) as Record<string, unknown>),
  });
  await app.register(swaggerUi, { routePrefix: '/api-docs', staticCSP: false, uiConfig: { deepLinking: true } });
  app.get('/api-docs/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
