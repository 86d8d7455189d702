import type { TSchema } from '@sinclair/typebox';
import type { RouteOptions } from 'fastify';
import { API_PREFIX } from '../routes/api-routes.ts';
import { errors } from '../schemas/common.ts';

interface RouteSchema {
  hide?: boolean;
  body?: unknown;
  querystring?: unknown;
  params?: unknown;
  headers?: unknown;
  response?: Record<string, TSchema>;
  [key: string]: unknown;
}

/**
 * One route as the OpenAPI document shows it (the route itself is unchanged). Adds what follows from
 * how every route is served rather than from the route: its security (bearer, or none for public
 * routes), 401 for a signed-in route, 403 for one that needs a role, 400 for one that takes input,
 * 413 and 415 for one that takes a body, 429 for all (the per-address
 * limit, when it is on). The route's own response declarations come on top.
 */
export function documentRoute({ schema, url, route }: { schema: unknown; url: string; route: RouteOptions }): { schema: RouteSchema; url: string } {
  const given = (schema ?? {}) as RouteSchema;
  const next: RouteSchema = { ...given };
  if (url.startsWith(`${API_PREFIX}/`) || given.hide === true) return { schema: { ...next, hide: true }, url };

  const access = (route.config as { access?: string } | undefined)?.access ?? 'user';
  const statuses: number[] = [];
  if (given.body !== undefined || given.querystring !== undefined || given.params !== undefined || given.headers !== undefined) statuses.push(400);
  if (access !== 'public') statuses.push(401);
  if (access === 'moderator' || access === 'admin') statuses.push(403);
  if (given.body !== undefined) statuses.push(413, 415);
  // Any route, when the server limits requests per address (rate_limit.global_per_minute).
  statuses.push(429);
  next.response = { ...errors(...statuses), ...given.response };
  next.security = access === 'public' ? [] : [{ bearerAuth: [] }];
  return { schema: next, url };
}
