import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.ts';
import { installAuthentication } from '../plugins/authenticate.ts';
import type { TypeBoxTypeProvider } from '../type-provider.ts';
import { authRoutes } from './auth-routes.ts';
import { eventsRoutes } from './events-routes.ts';
import { healthRoutes } from './health-routes.ts';
import { monitoringRoutes } from './monitoring-routes.ts';
import { scheduleRoutes } from './schedule-routes.ts';
import { taskActionRoutes } from './task-action-routes.ts';
import { taskArtifactRoutes } from './task-artifact-routes.ts';
import { taskCreateRoutes } from './task-create-routes.ts';
import { taskHistoryRoutes } from './task-history-routes.ts';
import { taskReadRoutes } from './task-read-routes.ts';
import { taskTypeRoutes } from './task-type-routes.ts';
import { userRoutes } from './user-routes.ts';

/** The starter's prefix; every route answers there as well as at the guide's path. */
export const API_PREFIX = '/api/v1';

export async function installApiRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  for (const prefix of ['', API_PREFIX]) {
    await app.register(
      async (scope) => {
        installAuthentication(scope, ctx);
        const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
        authRoutes(typed, ctx);
        taskCreateRoutes(typed, ctx);
        taskTypeRoutes(typed, ctx);
        taskHistoryRoutes(typed, ctx);
        taskReadRoutes(typed, ctx);
        taskActionRoutes(typed, ctx);
        taskArtifactRoutes(typed, ctx);
        scheduleRoutes(typed, ctx);
        monitoringRoutes(typed, ctx);
        userRoutes(typed, ctx);
        healthRoutes(typed, ctx);
        eventsRoutes(typed, ctx);
      },
      { prefix },
    );
  }
}
