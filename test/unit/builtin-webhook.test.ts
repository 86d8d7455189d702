import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { PermanentTaskError, RetryableTaskError } from '../../src/core/task-errors.ts';
import { createWebhookTask, RESPONSE_BODY_LIMIT } from '../../src/tasks/builtin/webhook.ts';
import { verifyWebhook } from '../../src/tasks/builtin/webhook-signature.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { taskContext } from './builtin-context.ts';

// A Standard Webhooks secret: whsec_ + base64 of the key bytes.
const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const SECRET = `whsec_${KEY.toString('base64')}`;

interface Hit {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/** A real HTTP server on the loopback interface that records every request and answers from a script. */
async function startReceiver(host = '127.0.0.1') {
  const hits: Hit[] = [];
  const replies: Reply[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      hits.push({ method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const reply = replies.shift() ?? { status: 200, body: 'ok' };
      if (reply === 'hang') return;
      response.writeHead(reply.status, reply.headers ?? {});
      response.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    hits,
    replies,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
/** Listens on every loopback address (`::` takes IPv4 too): any request the guard lets through lands here. */
let canary: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  receiver = await startReceiver();
  canary = await startReceiver('::');
});
afterAll(async () => {
  await receiver.close();
  await canary.close();
});
beforeEach(() => {
  receiver.hits.length = 0;
  receiver.replies.length = 0;
});

function trustedTask(clock = new ManualClock(Date.UTC(2026, 0, 1)), timeoutMs = 5_000) {
  return createWebhookTask({ secret: SECRET, allowHosts: ['127.0.0.1'], timeoutMs }, clock);
}

/** The signature as the receiver computes it, written out here rather than taken from the module. */
function expectedSignature(id: string, timestamp: string, body: string): string {
  return `v1,${createHmac('sha256', KEY).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

describe('webhook delivery to a real receiver', () => {
  it('sends the JSON payload signed with Standard Webhooks; the receiver verifies it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const context = taskContext();
    const output = await trustedTask(clock).handler(
      { url: receiver.url(), method: 'POST', headers: { 'X-Source': 'tests' }, payload: { event: 'user_created', id: 7 } },
      context,
    );
    expect(receiver.hits).toHaveLength(1);
    const hit = receiver.hits[0]!;
    expect(hit.method).toBe('POST');
    expect(hit.url).toBe('/hook');
    expect(hit.body).toBe('{"event":"user_created","id":7}');
    expect(hit.headers['content-type']).toBe('application/json');
    expect(hit.headers['x-source']).toBe('tests');
    expect(hit.headers['webhook-id']).toBe(context.taskId);
    expect(hit.headers['webhook-timestamp']).toBe(String(Date.UTC(2026, 0, 1, 12) / 1000));
    expect(hit.headers['webhook-signature']).toBe(expectedSignature(context.taskId, hit.headers['webhook-timestamp'] as string, hit.body));
    expect(output).toMatchObject({ status: 200, webhook_id: context.taskId, response_body: 'ok', response_truncated: false });
    expect(typeof (output as { duration_ms: number }).duration_ms).toBe('number');
  });

  it('keeps the webhook-id across retries, with a fresh timestamp and signature; Retry-After is honoured', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const task = trustedTask(clock);
    const first = taskContext();
    receiver.replies.push({ status: 503, headers: { 'Retry-After': '7' }, body: 'busy' });
    const failed = task.handler({ url: receiver.url(), method: 'POST', payload: { n: 1 } }, first);
    await expect(failed).rejects.toBeInstanceOf(RetryableTaskError);
    await expect(failed).rejects.toMatchObject({ retryAfterMs: 7000 });
    clock.advance(7_000);
    await task.handler({ url: receiver.url(), method: 'POST', payload: { n: 1 } }, taskContext({ taskId: first.taskId, attempt: 2 }));

    const [a, b] = receiver.hits;
    expect(a!.headers['webhook-id']).toBe(first.taskId);
    expect(b!.headers['webhook-id']).toBe(first.taskId);
    expect(Number(b!.headers['webhook-timestamp'])).toBe(Number(a!.headers['webhook-timestamp']) + 7);
    expect(b!.headers['webhook-signature']).not.toBe(a!.headers['webhook-signature']);
    for (const hit of [a!, b!]) {
      const verdict = verifyWebhook({
        secret: SECRET,
        headers: { id: hit.headers['webhook-id'] as string, timestamp: hit.headers['webhook-timestamp'] as string, signature: hit.headers['webhook-signature'] as string },
        body: hit.body,
        nowSeconds: Number(hit.headers['webhook-timestamp']),
      });
      expect(verdict).toEqual({ ok: true });
    }
  });

  it.each([
    [408, RetryableTaskError],
    [429, RetryableTaskError],
    [500, RetryableTaskError],
    [502, RetryableTaskError],
    [400, PermanentTaskError],
    [401, PermanentTaskError],
    [404, PermanentTaskError],
    [422, PermanentTaskError],
  ])('answers %i → %o', async (status, kind) => {
    receiver.replies.push({ status });
    await expect(trustedTask().handler({ url: receiver.url(), method: 'POST', payload: null }, taskContext())).rejects.toBeInstanceOf(kind);
  });

  it('reads Retry-After as an HTTP date on a 429', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 0));
    receiver.replies.push({ status: 429, headers: { 'Retry-After': new Date(Date.UTC(2026, 0, 1, 0, 2, 0)).toUTCString() } });
    await expect(trustedTask(clock).handler({ url: receiver.url(), method: 'POST', payload: {} }, taskContext())).rejects.toMatchObject({ retryAfterMs: 120_000 });
  });

  it('does not follow a redirect, not even to a private address or the loopback canary', async () => {
    const canaryBefore = canary.hits.length;
    for (const location of ['http://169.254.169.254/latest/meta-data/', `http://127.0.0.1:${canary.port}/stolen`]) {
      receiver.replies.push({ status: 302, headers: { Location: location } });
      const redirected = trustedTask().handler({ url: receiver.url(), method: 'POST', payload: {} }, taskContext());
      await expect(redirected).rejects.toBeInstanceOf(PermanentTaskError);
      await expect(redirected).rejects.toThrow(/redirects are not followed/);
    }
    expect(receiver.hits).toHaveLength(2);
    expect(canary.hits.length).toBe(canaryBefore);
  });

  it('keeps only the first 2 KB of a large answer', async () => {
    receiver.replies.push({ status: 200, body: 'x'.repeat(100_000) });
    const output = (await trustedTask().handler({ url: receiver.url(), method: 'PUT', payload: [1, 2] }, taskContext())) as { response_body: string; response_truncated: boolean };
    expect(output.response_body).toHaveLength(RESPONSE_BODY_LIMIT);
    expect(output.response_truncated).toBe(true);
    expect(receiver.hits[0]!.method).toBe('PUT');
  });

  it('retries, with the error, when the host cannot be reached or does not answer in time', async () => {
    const gone = await startReceiver();
    await gone.close();
    const refused = trustedTask().handler({ url: gone.url(), method: 'POST', payload: {} }, taskContext());
    await expect(refused).rejects.toBeInstanceOf(RetryableTaskError);
    await expect(refused).rejects.toThrow(/ECONNREFUSED/);

    receiver.replies.push('hang');
    const slow = trustedTask(new ManualClock(), 200).handler({ url: receiver.url(), method: 'POST', payload: {} }, taskContext());
    await expect(slow).rejects.toBeInstanceOf(RetryableTaskError);
    await expect(slow).rejects.toThrow(/timed out after 200 ms/);
  });

  it('stops when the task is aborted, with the abort reason', async () => {
    receiver.replies.push('hang');
    const context = taskContext();
    const running = trustedTask().handler({ url: receiver.url(), method: 'POST', payload: {} }, context);
    const reason = new Error('cancelled by the user');
    // Abort once the request has reached the receiver.
    const deadline = Date.now() + 5_000;
    while (receiver.hits.length === 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    context.controller.abort(reason);
    await expect(running).rejects.toBe(reason);
  });

  it('refuses payload headers that would break framing or signing', async () => {
    const attempts: Record<string, string>[] = [{ 'Webhook-Signature': 'v1,forged' }, { Host: 'internal' }, { 'Content-Length': '1' }, { 'X-Bad': 'a\r\nInjected: 1' }, { 'Bad Name': 'x' }];
    for (const headers of attempts) {
      await expect(trustedTask().handler({ url: receiver.url(), method: 'POST', headers, payload: {} }, taskContext())).rejects.toBeInstanceOf(PermanentTaskError);
    }
    expect(receiver.hits).toHaveLength(0);
  });

  it("accepts the guide's example payload", () => {
    const registry = new TaskRegistry().register(trustedTask());
    registry.validatePayload('webhook', { url: 'https://api.example.com/notify', method: 'POST', payload: { event: 'user_created' } });
    expect(() => registry.validatePayload('webhook', { url: 'ftp://example.com/x', method: 'POST', payload: {} })).toThrow();
    expect(() => registry.validatePayload('webhook', { url: 'https://example.com', method: 'CONNECT', payload: {} })).toThrow();
  });
});

describe('SSRF: addresses that must never be reached (allowHosts empty)', () => {
  const guarded = () => createWebhookTask({ secret: SECRET, allowHosts: [], timeoutMs: 2_000 });

  const loopbackForms = (port: number) => [
    `http://127.0.0.1:${port}/`,
    `http://127.1:${port}/`,
    `http://0177.0.0.1:${port}/`,
    `http://2130706433:${port}/`,
    `http://0x7f000001:${port}/`,
    `http://0x7f.0.0.1:${port}/`,
    `http://0:${port}/`,
    `http://0.0.0.0:${port}/`,
    `http://[::1]:${port}/`,
    `http://[::]:${port}/`,
    `http://[::ffff:127.0.0.1]:${port}/`,
    `http://[::ffff:7f00:1]:${port}/`,
    `http://[0:0:0:0:0:ffff:127.0.0.1]:${port}/`,
    `http://[::127.0.0.1]:${port}/`,
    `http://[64:ff9b::127.0.0.1]:${port}/`,
    `http://[2002:7f00:1::]:${port}/`,
    `http://localhost:${port}/`,
    `http://LOCALHOST:${port}/`,
    `http://localhost.:${port}/`,
    `https://127.0.0.1:${port}/`,
  ];
  // Never contacted: the guard refuses before connecting, so nothing is sent anywhere.
  const privateForms = [
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://172.16.0.1/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://[ff02::1]/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://240.0.0.1/',
    'http://198.18.0.1/',
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:10.0.0.1]/',
  ];

  it('refuses every loopback spelling with no request reaching the canary', async () => {
    const before = canary.hits.length;
    for (const url of loopbackForms(canary.port)) {
      const attempt = guarded().handler({ url, method: 'POST', payload: { probe: url } }, taskContext());
      await expect(attempt, url).rejects.toBeInstanceOf(PermanentTaskError);
      await expect(attempt, url).rejects.toThrow(/webhook refused/);
    }
    expect(canary.hits.length).toBe(before);
  });

  it('refuses private, link-local, metadata, CGNAT, multicast and reserved addresses before connecting', async () => {
    for (const url of privateForms) {
      const attempt = guarded().handler({ url, method: 'POST', payload: {} }, taskContext());
      await expect(attempt, url).rejects.toBeInstanceOf(PermanentTaskError);
      await expect(attempt, url).rejects.toThrow(/webhook refused/);
    }
  });

  it('refuses other schemes, credentials in the URL and non-web low ports', async () => {
    for (const url of ['file:///etc/passwd', 'gopher://example.com/', 'http://user:pass@example.com/', 'http://example.com:22/', 'http://example.com:25/']) {
      await expect(guarded().handler({ url, method: 'POST', payload: {} }, taskContext()), url).rejects.toBeInstanceOf(PermanentTaskError);
    }
  });

  it('lets the allowlist admit a trusted internal host', async () => {
    const before = canary.hits.length;
    const trusted = createWebhookTask({ secret: SECRET, allowHosts: ['localhost'], timeoutMs: 2_000 });
    await trusted.handler({ url: `http://localhost:${canary.port}/allowed`, method: 'POST', payload: {} }, taskContext());
    expect(canary.hits.length).toBe(before + 1);
    // The allowlist names hosts exactly: 127.0.0.1 is still refused.
    await expect(trusted.handler({ url: `http://127.0.0.1:${canary.port}/`, method: 'POST', payload: {} }, taskContext())).rejects.toBeInstanceOf(PermanentTaskError);
    expect(canary.hits.length).toBe(before + 1);
  });
});
