import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { ApiConfig } from '../api-config.ts';

/**
 * Security headers on every response (helmet: nosniff, frame-deny, HSTS, a strict CSP, ...) and CORS
 * for the configured origins only. Tokens travel in the Authorization header, never cookies, so CORS
 * needs no credentials.
 */
export async function installSecurity(app: FastifyInstance, config: ApiConfig): Promise<void> {
  await app.register(helmet, {
    frameguard: { action: 'deny' },
    // The docs page (swagger-ui) needs its own scripts and styles; everything else is JSON.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
        frameAncestors: ["'none'"],
        // The API is often reached over plain HTTP on a private network; do not force https sub-requests.
        upgradeInsecureRequests: null,
      },
    },
  });
  const origins = config.server.corsOrigins;
  await app.register(cors, {
    origin: origins.includes('*') ? '*' : origins.length === 0 ? false : origins,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after', 'idempotent-replayed'],
    credentials: false,
    maxAge: 600,
  });
}
