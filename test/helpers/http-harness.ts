import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { resolveApiConfig, type ApiConfig, type DeepPartial } from '../../src/api/api-config.ts';
import { buildApp } from '../../src/api/build-app.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { Engine } from '../../src/store/engine.ts';

/**
 * The real API (buildApp, the same app `conveyor serve` runs) listening on a free port, and how tests
 * talk to it over real HTTP. The API tests (test/api/api-harness.ts) and the dashboard tests
 * (test/e2e/dashboard-harness.ts) both stand on this.
 */

export const ADMIN_PASSWORD = 'Admin-Secret-77!';
export const PASSWORD = 'Correct-Horse-42';

/**
 * argon2id at its cheapest, for test servers only: every account a test makes costs a hash, and
 * production's cost (OWASP's minimum, DEFAULT_API_CONFIG.auth.argon2) is there to be slow. The
 * parameters travel in each stored hash, so a test can still see that argon2id was used.
 */
export const TEST_ARGON2 = { memoryKiB: 64, timeCost: 1, parallelism: 1 } as const;

export interface CallResult {
  status: number;
  headers: Headers;
  // Parsed JSON body (any: tests read into it freely), or null when the body is not JSON.
  body: any;
  text: string;
}

export interface CallOptions {
  token?: string | undefined;
  body?: unknown;
  /** Sent as-is, for malformed or oversized bodies. */
  raw?: string;
  headers?: Record<string, string>;
}

export interface HttpServer {
  url: string;
  app: FastifyInstance;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  /** Logs in through POST /auth/login; the session token. */
  login(login: string, password: string): Promise<string>;
  /** Registers through POST /auth/register (password PASSWORD); the new user's id. */
  register(username: string): Promise<string>;
}

/**
 * Starts the API on `engine`. The test settings (the first admin's password, open registration, no registration limit,
 * cheap argon2) come first; `overrides` win over them.
 */
export async function startHttpServer(options: { engine: Engine; clock: Clock; logger: Logger; overrides?: DeepPartial<ApiConfig> }): Promise<HttpServer> {
  const overrides = options.overrides ?? {};
  const config = resolveApiConfig({ ...overrides, auth: { initialAdminPassword: ADMIN_PASSWORD, registerPerMinute: 10_000, argon2: TEST_ARGON2, registration: 'open', ...overrides.auth } });
  const app = await buildApp({ engine: options.engine, config, logger: options.logger, clock: options.clock });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const call = async (method: string, path: string, callOptions: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { ...callOptions.headers };
    if (callOptions.token !== undefined) headers.authorization = `Bearer ${callOptions.token}`;
    let body: string | undefined = callOptions.raw;
    if (callOptions.body !== undefined) body = JSON.stringify(callOptions.body);
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    const response = await fetch(url + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };

  return {
    url,
    app,
    call,
    login: async (name, password) => {
      const response = await call('POST', '/auth/login', { body: { username_or_email: name, password } });
      if (response.status !== 200) throw new Error(`login ${name} failed: ${response.status} ${response.text}`);
      return response.body.data.session_token as string;
    },
    register: async (username) => {
      const response = await call('POST', '/auth/register', { body: { username, email: `${username}@example.com`, password: PASSWORD } });
      if (response.status !== 201) throw new Error(`register ${username} failed: ${response.status} ${response.text}`);
      return response.body.data.id as string;
    },
  };
}
