import type { AuthConfig } from '../auth/auth-config.ts';
import { DEFAULT_QUOTA_CONFIG, type QuotaConfig } from '../core/quota.ts';

/**
 * Everything the HTTP API can be tuned with. DEFAULT_API_CONFIG below is the one home of the API's
 * defaults: the CLI's config schema (src/cli/config.ts) reads each server.* and auth.* setting's
 * default from it (the CLI may import api/, never the reverse), `conveyor serve` maps the resolved
 * settings back (apiConfigFrom) and passes the result to buildApp(), and callers that build the API
 * without the CLI (tests, embedders) use it as it is. Nothing in api/ reads the environment itself;
 * test/api/server-config.test.ts checks that the mapping gives these defaults back.
 */
export interface ApiConfig {
  server: {
    host: string;
    port: number;
    /** Largest request body, in bytes, on every route but the batch insert. */
    bodyLimitBytes: number;
    /** Largest body of POST /tasks/batch (up to 1,000 tasks). */
    batchBodyLimitBytes: number;
    /** Origins allowed by CORS; `['*']` allows any, `[]` none (same-origin only). */
    corsOrigins: string[];
    /** Trust X-Forwarded-For (behind a reverse proxy): true (any proxy), or the proxies' addresses / CIDRs. */
    trustProxy: boolean | string | string[];
  };
  auth: AuthConfig;
  /** What each role may create and keep, counted in tasks (core/quota.ts). */
  quotas: QuotaConfig;
  rateLimit: {
    /** Task-creating requests (POST /tasks, /tasks/batch, /schedules/:id/run) per user per minute (0 = unlimited). */
    taskCreatePerMinute: number;
    /** Requests per client address per minute on every route (0 = off; usually a proxy's job). */
    globalPerMinute: number;
  };
  workers: {
    /** A worker whose last heartbeat is older than this is not counted as live. */
    liveAfterMs: number;
  };
  health: {
    /** /health/ready also requires a live worker (off: an API without workers still accepts tasks). */
    readyRequiresWorker: boolean;
  };
  /** How long the task-type list read from the database is reused for payload validation. */
  taskTypeCacheMs: number;
  reports: {
    /** The folder report tasks write to; GET /tasks/:id/artifact serves files from it and nowhere else (null: none). */
    artifactsDir: string | null;
  };
  docs: { enabled: boolean };
  metrics: {
    enabled: boolean;
    /**
     * The bearer token GET /metrics requires (server.metrics_token). Null: /metrics answers 404, as the
     * queue's counts, request counts and login failures are not for everyone on the network.
     */
    token: string | null;
  };
}

const HOUR = 3_600_000;

export const DEFAULT_API_CONFIG: ApiConfig = deepFreeze({
  server: {
    host: '127.0.0.1',
    port: 3000,
    bodyLimitBytes: 1_310_720, // 1.25 MiB: a 1 MB payload plus metadata and the envelope
    batchBodyLimitBytes: 16 * 1024 * 1024,
    corsOrigins: [],
    trustProxy: false,
  },
  auth: {
    sessionTtlMs: 24 * HOUR,
    sessionMaxLifetimeMs: 30 * 24 * HOUR,
    refreshMinIntervalMs: 5 * 60_000,
    initialAdminPassword: null,
    initialAdminUsername: 'admin',
    initialAdminEmail: 'admin@localhost',
    password: { minLength: 8, maxLength: 128, minClasses: 3, rejectCommon: true },
    argon2: { memoryKiB: 19_456, timeCost: 2, parallelism: 1 },
    loginThrottle: { pairMaxFailures: 5, accountMaxFailures: 50, addressMaxFailures: 20, windowMs: 15 * 60_000, baseBlockMs: 30_000, maxBlockMs: 15 * 60_000 },
    registerPerMinute: 20,
    // A server does not take strangers by default; `conveyor start` (one machine, loopback) opens it.
    registration: 'invite',
    invitationTtlMs: 7 * 24 * HOUR,
    passwordResetTtlMs: HOUR,
  },
  quotas: DEFAULT_QUOTA_CONFIG,
  rateLimit: { taskCreatePerMinute: 600, globalPerMinute: 0 },
  workers: { liveAfterMs: 30_000 },
  health: { readyRequiresWorker: false },
  taskTypeCacheMs: 5_000,
  // Not a setting's default but what the CLI derives from data.dir's ('./data') when reports.artifacts_dir
  // is empty: `<data.dir>/artifacts`, where report_generation writes.
  reports: { artifactsDir: 'data/artifacts' },
  docs: { enabled: true },
  metrics: { enabled: true, token: null },
});

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** The defaults with `overrides` laid over them, frozen. Arrays replace rather than merge. */
export function resolveApiConfig(overrides: DeepPartial<ApiConfig> = {}): ApiConfig {
  return deepFreeze(merge(structuredClone(DEFAULT_API_CONFIG) as unknown as Record<string, unknown>, overrides as Record<string, unknown>) as unknown as ApiConfig);
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = base[key];
    if (isPlainObject(value) && isPlainObject(current)) base[key] = merge({ ...current }, value);
    else base[key] = value;
  }
  return base;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
