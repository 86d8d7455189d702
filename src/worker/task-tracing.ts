import { context, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type SpanOptions } from '@opentelemetry/api';
import { metadataGetter } from '../core/trace-context.ts';
import type { ClaimedTask } from '../core/task.ts';

const tracer = trace.getTracer('conveyor');
const CONSUMER: SpanOptions = Object.freeze({ kind: SpanKind.CONSUMER });

/**
 * One OpenTelemetry span per attempt, `process <task type>` (the messaging conventions' name), the
 * child of the span that enqueued the task when its context came along (see core/trace-context.ts).
 * The handler runs inside it, so its own instrumented calls (HTTP, SQL, SMTP) nest under the task.
 * Without an OpenTelemetry SDK in the process the span records nothing and costs next to nothing.
 */
export function startTaskSpan(task: ClaimedTask, attempt: number): { span: Span; context: Context } {
  const parent = typeof task.metadata.traceparent === 'string' ? propagation.extract(ROOT_CONTEXT, task.metadata, metadataGetter) : ROOT_CONTEXT;
  const span = tracer.startSpan(`process ${task.taskType}`, CONSUMER, parent);
  // No SDK in the process (the API's no-op tracer, no parent): nothing to record or pass on, so the
  // handler runs in the root context as it is, without a context made for it (this runs per task).
  if (parent === ROOT_CONTEXT && !isSpanContextValid(span.spanContext())) return { span, context: ROOT_CONTEXT };
  if (span.isRecording()) {
    span.setAttributes({
      'messaging.system': 'conveyor',
      'messaging.operation.type': 'process',
      'messaging.destination.name': task.taskType,
      'messaging.message.id': task.id,
      'conveyor.task.attempt': attempt,
      'conveyor.task.max_attempts': task.maxAttempts,
    });
  }
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends the attempt's span with how it ended (the executor's Outcome kind): a failure is an error, with its text. */
export function endTaskSpan(span: Span, outcome: string, failure?: { error: string; permanent: boolean }): void {
  if (span.isRecording()) {
    span.setAttribute('conveyor.task.outcome', outcome);
    if (failure) {
      span.setAttribute('conveyor.task.permanent', failure.permanent);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.error });
    }
  }
  span.end();
}

/**
 * Calls `handler` on `self` (as `self.handler(a, b)` would) with the attempt's span active, so that
 * what it does nests under the span. Its arguments are passed on, not closed over: this runs per task.
 */
export function inSpan<S, A, B, T>(spanContext: Context, self: S, handler: (this: S, a: A, b: B) => T, a: A, b: B): T {
  return spanContext === ROOT_CONTEXT ? handler.call(self, a, b) : context.with(spanContext, handler, self, a, b);
}
