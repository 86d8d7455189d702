import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConveyorClient } from '../../src/client/conveyor-client.ts';
import { defineTask } from '../../src/tasks/define-task.ts';
import { TaskRegistry } from '../../src/tasks/task-registry.ts';
import { Worker } from '../../src/worker/worker.ts';
import { testDatabases } from '../helpers/databases.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * An application that runs an OpenTelemetry SDK: the task carries the trace it was enqueued in, and
 * the worker's span for it continues that trace, with the handler's own spans inside.
 */
const exporter = new InMemorySpanExporter();
beforeAll(() => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

describe.each(testDatabases)('OpenTelemetry tracing [$kind]', ({ create }) => {
  it('the worker span continues the trace that enqueued the task, holds the handler\'s spans, and marks a failure', async () => {
    const db = create();
    const conveyor = await ConveyorClient.open({ databaseUrl: db.url });
    const tracer = trace.getTracer('the-application');
    const registry = new TaskRegistry().register(
      defineTask({
        name: 'traced',
        description: 'makes a span of its own, or fails',
        payload: Type.Object({ fail: Type.Boolean() }),
        async handler(payload) {
          tracer.startActiveSpan('inside the handler', (span) => span.end());
          if (payload.fail) throw new Error('the partner said no');
          return { ok: true };
        },
      }),
    );
    const worker = new Worker({ engine: conveyor.engine, registry });
    try {
      const { ok, failing, requestSpan } = await tracer.startActiveSpan('POST /orders', async (span) => {
        const made = {
          ok: (await conveyor.enqueue({ taskType: 'traced', payload: { fail: false } })).task,
          failing: (await conveyor.enqueue({ taskType: 'traced', payload: { fail: true }, maxAttempts: 1 })).task,
          requestSpan: span.spanContext(),
        };
        span.end();
        return made;
      });
      expect(ok.metadata.traceparent).toBe(`00-${requestSpan.traceId}-${requestSpan.spanId}-01`);
      // Outside any span nothing is added.
      const plain = (await conveyor.enqueue({ taskType: 'traced', payload: { fail: false }, metadata: { source: 'cron' } })).task;
      expect(plain.metadata).toEqual({ source: 'cron' });

      await worker.start();
      await waitFor(async () => {
        const tasks = await Promise.all([ok.id, failing.id].map((id) => conveyor.get(id)));
        return tasks.every((t) => t && ['completed', 'failed'].includes(t.status)) ? true : undefined;
      }, { timeoutMs: 15_000, message: 'both traced tasks to finish' });

      const spans = exporter.getFinishedSpans();
      const processOf = (id: string) => spans.find((s) => s.name === 'process traced' && s.attributes['messaging.message.id'] === id)!;
      const done = processOf(ok.id);
      expect(done.kind).toBe(SpanKind.CONSUMER);
      expect(done.spanContext().traceId).toBe(requestSpan.traceId);
      expect(done.parentSpanContext?.spanId).toBe(requestSpan.spanId);
      expect(done.attributes).toMatchObject({ 'messaging.system': 'conveyor', 'messaging.destination.name': 'traced', 'conveyor.task.attempt': 1, 'conveyor.task.outcome': 'completed' });
      const inside = spans.filter((s) => s.name === 'inside the handler' && s.parentSpanContext?.spanId === done.spanContext().spanId);
      expect(inside).toHaveLength(1);

      const failed = processOf(failing.id);
      expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: expect.stringContaining('the partner said no') });
      expect(failed.attributes).toMatchObject({ 'conveyor.task.outcome': 'failed', 'conveyor.task.permanent': false });
    } finally {
      await worker.stop({ graceMs: 0 });
      await conveyor.close();
      await db.drop();
      exporter.reset();
    }
  });
});
