import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabases } from '../helpers/databases.ts';
import { PASSWORD, startApi, type Account, type ApiHarness } from './api-harness.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

/** An open GET /events stream: its text so far, and a promise that settles when the server ends it. */
interface OpenStream {
  text(): string;
  ended: Promise<string>;
  /** performance.now() when the stream ended (for the figures in the notes, never asserted on). */
  endedAt(): number;
  close(): void;
}

async function openStream(api: ApiHarness, token: string): Promise<OpenStream> {
  const abort = new AbortController();
  const response = await fetch(`${api.url}/events`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  expect(response.status).toBe(200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  let endedAt = 0;
  let greeted: () => void = () => {};
  const hello = new Promise<void>((resolve) => (greeted = resolve));
  const ended = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        if (text.includes('event: hello')) greeted();
      }
    } catch {
      // aborted by close()
    }
    endedAt = performance.now();
    greeted();
    return text;
  })();
  await hello;
  return { text: () => text, ended, endedAt: () => endedAt, close: () => abort.abort() };
}

describe.each(testDatabases)('sessions end their streams; logs and metrics keep secrets [$kind]', ({ create }) => {
  let api: ApiHarness;
  let admin: Account;
  beforeAll(async () => {
    api = await startApi(create(), { metrics: { token: METRICS_TOKEN } });
    admin = await api.account('admin');
  });
  afterAll(async () => api?.close());

  test('logout ends that session\'s stream at once, and only that one', async () => {
    const user = await api.account();
    const other = await api.login(user.username, PASSWORD);
    const [first, second] = [await openStream(api, user.token), await openStream(api, other)];
    const started = performance.now();
    expect((await api.call('POST', '/auth/logout', { token: user.token })).status).toBe(200);
    expect(await first.ended).toContain('event: session_ended');
    console.info(`[figure] stream ended ${Math.round(first.endedAt() - started)} ms after logout was sent`);
    // The other session's stream stays open: its session stands.
    expect(second.text()).not.toContain('session_ended');
    second.close();
    await second.ended;
  });

  test('logout-all and deactivation end every stream of the account at once', async () => {
    const user = await api.account();
    const streams = [await openStream(api, user.token), await openStream(api, await api.login(user.username, PASSWORD))];
    expect((await api.call('POST', '/auth/logout-all', { token: user.token })).status).toBe(200);
    for (const stream of streams) expect(await stream.ended).toContain('event: session_ended');

    const victim = await api.account();
    const watched = await openStream(api, victim.token);
    expect((await api.call('PATCH', `/users/${victim.id}`, { token: admin.token, body: { is_active: false } })).status).toBe(200);
    expect(await watched.ended).toContain('event: session_ended');
  });

  test('a session ended elsewhere (the CLI, another API server) or expired ends its stream at the next poll', async () => {
    const user = await api.account();
    const stream = await openStream(api, user.token);
    // What `conveyor users deactivate` does: straight to the database, this server is not told.
    await api.engine.userUpdate({ id: user.id, changes: { isActive: false }, now: api.clock.now() });
    await api.engine.sessionDeleteForUser({ userId: user.id });
    // The hub runs on the server's (manual) clock: its next session check is at most a second away.
    api.clock.advance(1000);
    expect(await stream.ended).toContain('event: session_ended');

    const expiring = await api.account();
    const later = await openStream(api, expiring.token);
    // Past the session's lifetime (24 h by default) on the server's clock; no request refreshes it.
    api.clock.advance(25 * 3_600_000);
    expect(await later.ended).toContain('event: session_ended');
  });

  test('request URLs are logged with their query values redacted, keys kept', async () => {
    const user = await api.account();
    const secret = 'sekrit-query-token-4242';
    await api.call('GET', `/tasks?token=${secret}&status=pending`, { token: user.token });
    await api.call('GET', `/no-such-route?api_key=${secret}`);
    await api.call('GET', `/metrics?token=${secret}`);
    const logs = api.logs.join('');
    expect(logs).not.toContain(secret);
    expect(logs).toContain('/tasks?token=[redacted]&status=[redacted]');
    expect(logs).toContain('/no-such-route?api_key=[redacted]');
  });

  test('GET /metrics answers only with the configured bearer token', async () => {
    const missing = await api.call('GET', '/metrics');
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('UNAUTHORIZED');
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    expect((await api.call('GET', '/metrics', { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
    // An admin's session token is not the metrics token.
    expect((await api.call('GET', '/metrics', { token: (await api.account('admin')).token })).status).toBe(401);
    const scraped = await api.call('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('conveyor_workers_live');
  });
});

describe.each(testDatabases)('GET /metrics without server.metrics_token [$kind]', ({ create }) => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi(create());
  });
  afterAll(async () => api?.close());

  test('answers 404 naming the setting, with or without credentials', async () => {
    const user = await api.account('admin');
    for (const headers of [{}, { authorization: `Bearer ${user.token}` }] as Record<string, string>[]) {
      const response = await api.call('GET', '/metrics', { headers });
      expect(response.status).toBe(404);
      expect(response.body.error.message).toContain('server.metrics_token');
      expect(response.text).not.toContain('conveyor_');
    }
  });
});
