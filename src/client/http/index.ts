import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './openapi-types.ts';

export type { components, operations, paths };

/** The shapes the API answers with, by the OpenAPI document's names. */
export type TaskDetail = components['schemas']['TaskDetail'];
export type TaskSummary = components['schemas']['TaskSummary'];
export type ScheduleView = components['schemas']['ScheduleView'];
export type TaskStats = components['schemas']['TaskStatsView'];
export type TaskType = components['schemas']['TaskTypeView'];
export type UserProfile = components['schemas']['UserProfile'];
export type WorkerView = components['schemas']['WorkerView'];
export type CircuitBreaker = components['schemas']['BreakerView'];
/** Every error: `{success: false, error: {code, message, field?, details?}}`. */
export type ErrorEnvelope = components['schemas']['ErrorEnvelope'];

/** Calls the Conveyor HTTP API, every path, parameter and answer typed by the API's OpenAPI document. */
export type ConveyorHttpClient = Client<paths>;

export interface ConveyorHttpClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where the API answers: `http://127.0.0.1:3000` (paths are the guide's: /tasks, /auth/login ...). */
  baseUrl: string;
  /**
   * The session_token from POST /auth/login, sent as `Authorization: Bearer <token>`; or a function
   * asked before every request (for a token that changes). Leave it out for the public routes.
   */
  token?: string | (() => string | undefined) | undefined;
}

/**
 * A typed client for the Conveyor HTTP API (openapi-fetch): `client.GET('/tasks/{id}', { params:
 * { path: { id } } })` resolves to `{ data, error, response }`, where `data` is the success envelope
 * and `error` the error envelope. It never throws for an HTTP error status.
 */
export function createConveyorHttpClient(options: ConveyorHttpClientOptions): ConveyorHttpClient {
  const { token, baseUrl, ...rest } = options;
  const client = createClient<paths>({ ...rest, baseUrl: baseUrl.replace(/\/+$/, '') });
  if (token !== undefined) {
    client.use({
      onRequest({ request }) {
        const value = typeof token === 'function' ? token() : token;
        if (value) request.headers.set('authorization', `Bearer ${value}`);
        return request;
      },
    });
  }
  return client;
}
