import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { AuthService } from '../auth/auth-service.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Engine } from '../store/engine.ts';
import type { TaskRegistry } from '../tasks/task-registry.ts';
import type { ApiConfig } from './api-config.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { TaskTypeCatalog } from '../tasks/task-type-catalog.ts';
import type { TypeBoxTypeProvider } from './type-provider.ts';

/** What buildApp() needs from its caller. */
export interface ApiDeps {
  engine: Engine;
  config: ApiConfig;
  logger: Logger;
  clock: Clock;
  /** This process's task types, accepted even before a worker registers them in the database. */
  registry?: TaskRegistry | undefined;
  /** Reported by /health; defaults to the package's version. */
  version?: string | undefined;
}

/** Shared by every route: the deps plus the services built from them once per app. */
export interface ApiContext extends ApiDeps {
  auth: AuthService;
  taskTypes: TaskTypeCatalog;
  taskCreateLimit: RateLimiter;
  registerLimit: RateLimiter;
  version: string;
  startedAt: number;
}

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;
