import type { JsonValue } from './task.ts';

/**
 * Which circuit breaker a task answers to. Most task types share one breaker per type: their
 * failures say something about one dependency. A task type that calls many independent destinations
 * (a webhook can go to any host) keeps one breaker per destination instead, so that one user's
 * unreachable host pauses only the tasks that go there, not everybody's webhooks.
 *
 * The scope is decided once, when the task is created (every insert path goes through newTask), and
 * stored with it (`tasks.breaker_scope`), so a claim leaves out the tasks of an open scope with an
 * index-free comparison and never decodes a payload.
 */

/** Task types kept per destination host, and the payload field that holds the destination URL. */
const HOST_SCOPED_TYPES: Readonly<Record<string, string>> = Object.freeze({ webhook: 'url' });

/** Longest scope kept; a longer host (impossible for a valid URL) shares the type's breaker. */
const MAX_SCOPE_LENGTH = 255;

/**
 * The breaker scope of a task: the destination's host (with its port when it is not the default:
 * `api.example.com`, `127.0.0.1:8080`) for host-scoped types, null (the type's own breaker) for
 * every other type and for a payload without a parsable URL (its handler will refuse it anyway).
 */
export function breakerScopeOf(taskType: string, payload: JsonValue): string | null {
  const field = HOST_SCOPED_TYPES[taskType];
  if (field === undefined || payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const url = payload[field];
  if (typeof url !== 'string') return null;
  try {
    const host = new URL(url).host;
    return host.length > 0 && host.length <= MAX_SCOPE_LENGTH ? host : null;
  } catch {
    return null;
  }
}

/** How a breaker is named to people and in the worker's map: `webhook @ api.example.com`, or the type alone. */
export function breakerLabel(taskType: string, scope: string | null): string {
  return scope === null ? taskType : `${taskType} @ ${scope}`;
}
