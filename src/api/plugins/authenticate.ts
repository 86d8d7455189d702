import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticated } from '../../auth/auth-service.ts';
import { hasRole } from '../../auth/roles.ts';
import type { UserRole } from '../../store/engine.ts';
import { ApiError } from '../api-error.ts';
import type { ApiContext } from '../api-context.ts';

/** Who may call a route: anyone, or a signed-in user with at least this role. */
export type Access = 'public' | UserRole;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Defaults to 'user': a route is closed unless it says otherwise. */
    access?: Access;
  }
  interface FastifyRequest {
    principal: Authenticated | null;
  }
}

/**
 * Bearer-token authentication for every route of the scope it is installed in, before the body is
 * read: an anonymous caller gets 401 before any validation (so it learns nothing about the route),
 * and a user without the route's role gets 403.
 */
export function installAuthentication(scope: FastifyInstance, ctx: ApiContext): void {
  if (!scope.hasRequestDecorator('principal')) scope.decorateRequest('principal', null);
  scope.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access ?? 'user';
    if (access === 'public') return;
    const token = bearerToken(request);
    if (token === null) throw new ApiError('UNAUTHORIZED', 'Authentication required: send Authorization: Bearer <session_token>');
    const principal = await ctx.auth.authenticate(token);
    if (principal === null) throw new ApiError('UNAUTHORIZED', 'The session token is invalid, expired or revoked; log in again');
    request.principal = principal;
    // Later log lines of this request say who made it.
    request.log = request.log.child({ userId: principal.user.id });
    if (!hasRole(principal.user.role, access)) throw new ApiError('FORBIDDEN', `This needs the ${access} role`);
  });
}

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

/** The caller of an authenticated route. */
export function principalOf(request: FastifyRequest): Authenticated {
  if (!request.principal) throw new ApiError('UNAUTHORIZED', 'Authentication required');
  return request.principal;
}
