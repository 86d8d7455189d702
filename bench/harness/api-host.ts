/**
 * A process serving Conveyor's HTTP API for the POST /tasks benchmark: the app `conveyor start`
 * builds, with its defaults except three. The per-user task-creation rate limit (600/min) is off,
 * since the benchmark measures what the server can take, a first admin is created to log in as, and
 * GET /metrics answers to a bench token.
 */
import type { AddressInfo } from 'node:net';
import { resolveApiConfig } from '../../src/api/api-config.ts';
import { buildApp } from '../../src/api/build-app.ts';
import { systemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createEngine } from '../../test/helpers/create-engine.ts';
import { benchRegistry } from '../systems/conveyor.ts';
import { BENCH_METRICS_TOKEN } from './api-process.ts';

export type ApiHostEvent = { type: 'ready' } | { type: 'serving'; port: number; token: string } | { type: 'error'; message: string };

const PASSWORD = 'Bench-conveyor-2026!';

async function serve(databaseUrl: string): Promise<void> {
  const engine = createEngine(databaseUrl);
  await engine.migrate();
  const config = resolveApiConfig({ rateLimit: { taskCreatePerMinute: 0 }, auth: { initialAdminPassword: PASSWORD }, metrics: { token: BENCH_METRICS_TOKEN } });
  const app = await buildApp({ engine, config, logger: silentLogger, clock: systemClock, registry: benchRegistry(() => {}) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username_or_email: config.auth.initialAdminUsername, password: PASSWORD }),
  });
  const body = (await response.json()) as { data?: { session_token?: string } };
  const token = body.data?.session_token;
  if (!token) throw new Error(`login failed: ${response.status} ${JSON.stringify(body)}`);
  process.send?.({ type: 'serving', port, token } satisfies ApiHostEvent);
  process.on('message', async () => {
    await app.close();
    await engine.close();
    process.exit(0);
  });
}

process.once('message', (message: { databaseUrl: string }) => {
  serve(message.databaseUrl).catch((error: unknown) => {
    process.send?.({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies ApiHostEvent);
  });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' } satisfies ApiHostEvent);
