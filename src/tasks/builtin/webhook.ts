import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Type, type Static } from '@sinclair/typebox';
import { systemClock, type Clock } from '../../core/clock.ts';
import type { JsonObject } from '../../core/task.ts';
import { PermanentTaskError, RetryableTaskError } from '../../core/task-errors.ts';
import { defineTask, type TaskDefinition } from '../define-task.ts';
import { externalId } from './external-id.ts';
import { checkWebhookUrl, guardedLookup, SsrfRefusedError, type WebhookTarget } from './ssrf-guard.ts';
import { signWebhook, webhookSecretKey } from './webhook-signature.ts';

export interface WebhookSettings {
  /** Signs every request (Standard Webhooks); `whsec_<base64>` or plain text. Empty: requests go unsigned. */
  secret: string;
  /** Trusted hosts the SSRF guard lets through: names, `*.suffix` wildcards or IP addresses. */
  allowHosts: string[];
  /** The whole exchange (connect, send, first bytes of the answer). */
  timeoutMs: number;
}

/** How much of the receiver's answer the task's output keeps. */
export const RESPONSE_BODY_LIMIT = 2048;
/** A Retry-After further out than this is cut to it. */
const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;
const USER_AGENT = 'Conveyor-Webhook/1';
const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$";
const HEADER_NAME_PATTERN = new RegExp(HEADER_NAME);
const HEADER_VALUE = '^[\\t\\x20-\\x7e]*$';
const HEADER_VALUE_PATTERN = new RegExp(HEADER_VALUE);
/** Set by the handler (framing, signing) or by the connection; a payload may not override them. */
const RESERVED_HEADERS = new Set([
  'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
  'expect', 'proxy-authorization', 'proxy-connection', 'webhook-id', 'webhook-timestamp', 'webhook-signature',
]);

const WebhookPayload = Type.Object(
  {
    url: Type.String({ minLength: 8, maxLength: 2048, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://\\S+$', description: 'http or https URL of a public host (or one on the allowlist)', errorMessage: 'must be an http or https URL' }),
    method: Type.Union([Type.Literal('POST'), Type.Literal('PUT'), Type.Literal('PATCH'), Type.Literal('DELETE')]),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: HEADER_NAME }), Type.String({ maxLength: 4096, pattern: HEADER_VALUE }), {
        maxProperties: 32,
        description: 'Extra request headers (printable ASCII values)',
      }),
    ),
    payload: Type.Unknown({ description: 'Any JSON; sent as the request body' }),
  },
  { additionalProperties: false },
);
type WebhookPayload = Static<typeof WebhookPayload>;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  truncated: boolean;
}

/**
 * `webhook`: an HTTP request signed with Standard Webhooks. `webhook-id` is the task's idempotency
 * key, the same on every attempt, so the receiver can drop a repeat; each attempt gets a fresh
 * timestamp and signature. 2xx succeeds; 408, 429 (after its Retry-After) and 5xx are retried;
 * any other 4xx is permanent, and so is a 3xx: redirects are never followed.
 */
export function createWebhookTask(settings: WebhookSettings, clock: Clock = systemClock): TaskDefinition<typeof WebhookPayload> {
  const key = settings.secret === '' ? null : webhookSecretKey(settings.secret);
  return defineTask({
    name: 'webhook',
    description:
      'Sends a signed HTTP request (Standard Webhooks). Private, loopback and metadata addresses are refused; redirects are not followed; 408, 429 and 5xx are retried.',
    payload: WebhookPayload,
    examples: [
      { url: 'https://api.example.com/notify', method: 'POST', payload: { event: 'user_created' } },
      { url: 'https://hooks.example.com/orders', method: 'PUT', headers: { 'X-Source': 'conveyor' }, payload: { order: 42, status: 'shipped' } },
    ],
    timeoutMs: settings.timeoutMs + 5_000,
    async handler(payload, context) {
      let target: WebhookTarget;
      try {
        target = checkWebhookUrl(payload.url, settings.allowHosts);
      } catch (error) {
        throw new PermanentTaskError(`webhook refused: ${(error as Error).message}`);
      }
      const extra = checkHeaders(payload.headers);
      const body = Buffer.from(JSON.stringify(payload.payload ?? null), 'utf8');
      const webhookId = externalId(context.idempotencyKey);
      const timestamp = Math.floor(clock.now().getTime() / 1000);
      const headers: Record<string, string | number> = {
        ...extra,
        'user-agent': extra['user-agent'] ?? USER_AGENT,
        'content-type': 'application/json',
        'content-length': body.length,
        'webhook-id': webhookId,
        'webhook-timestamp': String(timestamp),
      };
      if (key !== null) headers['webhook-signature'] = signWebhook(key, { id: webhookId, timestamp, body });

      const started = performance.now();
      const answer = await send(target, payload.method, headers, body, settings.timeoutMs, context.signal);
      const durationMs = Math.round(performance.now() - started);
      const output: JsonObject = {
        status: answer.status,
        duration_ms: durationMs,
        webhook_id: webhookId,
        response_body: answer.body.toString('utf8'),
        response_truncated: answer.truncated,
      };
      context.logger.info({ status: answer.status, durationMs, host: target.hostname }, 'webhook answered');
      const status = answer.status;
      if (status >= 200 && status < 300) return output;
      const what = `webhook answered ${status} after ${durationMs} ms`;
      if (status >= 300 && status < 400) {
        // Following would let a public host bounce the request to a private one; the user fixes the URL instead.
        throw new PermanentTaskError(`${what}; redirects are not followed${locationNote(answer.headers.location)}`);
      }
      if (status === 408 || status === 429 || status >= 500) {
        throw new RetryableTaskError(what, { retryAfterMs: retryAfterMs(answer.headers['retry-after'], clock.now().getTime()) });
      }
      if (status >= 400) throw new PermanentTaskError(what);
      throw new RetryableTaskError(`${what}, which is not a final answer`);
    },
  });
}

function checkHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME_PATTERN.test(name)) throw new PermanentTaskError(`payload.headers: "${name.slice(0, 100)}" is not a valid header name`);
    if (typeof value !== 'string' || !HEADER_VALUE_PATTERN.test(value)) throw new PermanentTaskError(`payload.headers.${name}: the value must be printable ASCII on one line`);
    if (RESERVED_HEADERS.has(lower) || lower.startsWith('proxy-')) throw new PermanentTaskError(`payload.headers.${name}: this header is set by Conveyor and cannot be overridden`);
    result[lower] = value;
  }
  return result;
}

function send(target: WebhookTarget, method: string, headers: Record<string, string | number>, body: Buffer, timeoutMs: number, taskSignal: AbortSignal): Promise<Answer> {
  if (taskSignal.aborted) return Promise.reject(taskSignal.reason);
  const timeout = AbortSignal.timeout(timeoutMs);
  const options: RequestOptions = {
    method,
    headers,
    signal: AbortSignal.any([taskSignal, timeout]),
    // A fresh agent per request: no pooled socket can outlive the address check it passed.
    agent: false,
  };
  // Trusted hosts skip the address check; every other name is checked on the addresses connected to.
  if (!target.trusted) options.lookup = guardedLookup;
  const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise<Answer>((resolve, reject) => {
    const fail = (error: unknown) => {
      if (taskSignal.aborted) return reject(taskSignal.reason);
      if (error instanceof SsrfRefusedError) return reject(new PermanentTaskError(`webhook refused: ${error.message}`));
      if (timeout.aborted) return reject(new RetryableTaskError(`webhook timed out after ${timeoutMs} ms`));
      const failure = error as NodeJS.ErrnoException;
      const code = failure.code ? `${failure.code}: ` : '';
      reject(new RetryableTaskError(`webhook request failed: ${code}${failure.message}`, { cause: error }));
    };
    const outgoing = request(target.url, options, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const finish = () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT), truncated });
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size > RESPONSE_BODY_LIMIT) {
          // Enough for the output: the rest is not read, so a huge answer costs nothing.
          truncated = true;
          response.destroy();
          finish();
        }
      });
      response.on('end', finish);
      response.on('error', (error) => (truncated ? undefined : fail(error)));
    });
    outgoing.on('error', fail);
    outgoing.end(body);
  });
}

/** `Retry-After` as seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(at - nowMs, 0), MAX_RETRY_AFTER_MS);
}

function locationNote(location: string | undefined): string {
  if (!location) return '';
  return ` (Location: ${location.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)})`;
}
