import { context, propagation, trace, type TextMapGetter } from '@opentelemetry/api';
import type { JsonObject } from './task.ts';

/**
 * OpenTelemetry context travels with a task in its metadata, under the W3C names (`traceparent`,
 * `tracestate`), so the worker's span for the task continues the trace that enqueued it. Nothing is
 * added unless the application runs an OpenTelemetry SDK and enqueues inside a span.
 */
export function withTraceContext(metadata: JsonObject): JsonObject {
  if (trace.getSpan(context.active()) === undefined || typeof metadata.traceparent === 'string') return metadata;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent === undefined ? metadata : { ...metadata, ...carrier };
}

/** Reads `traceparent` and `tracestate` back out of a task's metadata. */
export const metadataGetter: TextMapGetter<JsonObject> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};
