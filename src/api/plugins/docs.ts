import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.ts';
import { API_PREFIX } from '../routes/api-routes.ts';

/**
 * The OpenAPI 3 document, generated from the same TypeBox schemas that validate requests, at
 * /api-docs/openapi.json, and swagger-ui at /api-docs. Must be installed before the routes.
 * Each route also answers under /api/v1; the document lists the guide's paths once.
 */
export async function installDocs(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Conveyor API',
        version: ctx.version,
        description:
          'Durable background tasks. Every response is `{"success": true, "data": ...}` or `{"success": false, "error": {"code", "message", "field"?}}`. ' +
          `Every path also answers under \`${API_PREFIX}\`.`,
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'session_token from POST /auth/login' } } },
      tags: [
        { name: 'auth', description: 'Accounts and sessions' },
        { name: 'tasks', description: 'Create, follow and manage tasks' },
        { name: 'schedules', description: 'Recurring tasks on a cron schedule' },
        { name: 'monitoring', description: 'Workers, circuit breakers, health' },
        { name: 'users', description: 'Account administration (admins)' },
      ],
    },
    transform: ({ schema, url, route }) => {
      const hidden = url.startsWith(`${API_PREFIX}/`) || (schema as { hide?: boolean } | undefined)?.hide === true;
      const access = (route.config as { access?: string } | undefined)?.access ?? 'user';
      const next: Record<string, unknown> = { ...(schema ?? {}) };
      if (hidden) next.hide = true;
      if (access !== 'public') next.security = [{ bearerAuth: [] }];
      return { schema: next, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api-docs', staticCSP: false, uiConfig: { deepLinking: true } });
  app.get('/api-docs/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
