import type { ApiContext, App } from '../api-context.ts';
import { principalOf } from '../plugins/authenticate.ts';
import { errors } from '../schemas/common.ts';
import { EventStream } from '../schemas/monitoring-schemas.ts';
import { eventHubOf } from '../task-event-hub.ts';

/**
 * GET /events: server-sent events for the dashboard. Authenticated like every route, with the bearer
 * header, so browsers read it with fetch() and a streaming body (EventSource cannot send headers, and a
 * token in the URL would end up in logs and history).
 */
export function eventsRoutes(app: App, ctx: ApiContext): void {
  const events = eventHubOf(ctx);
  // Open streams would keep close() waiting for them; end them first.
  app.addHook('preClose', async () => events.close());

  app.get('/events', {
    schema: {
      operationId: 'streamEvents',
      tags: ['monitoring'],
      summary: 'Live task changes (server-sent events)',
      description:
        'A `text/event-stream` of: `hello` (your role and scope), `stats` (the same shape as GET /tasks/stats, plus `at`; sent when ' +
        'the counts moved), `tasks` (`{tasks: TaskSummary[], deleted: id[]}`: the tasks you may see that changed), `monitor` ' +
        '(workers, circuit breakers, paused task types or limits changed; read GET /workers, GET /circuit-breakers or GET /tasks/types) and `session_ended` (the stream then ends: within a second of a logout, logout-all, deactivation or expiry). Send ' +
        '`Authorization: Bearer <session_token>` (read it with fetch and a streaming body). At most 10 streams per user. The server ' +
        'refreshes on change notifications, at most once a second, and every 15 s otherwise. For charts read GET /tasks/history.',
      response: { 200: EventStream, ...errors(401, 429, 503) },
    },
  }, async (request, reply) => {
    const { user, session } = principalOf(request);
    events.admit(user);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise hold the events back in their buffer.
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    raw.write('retry: 3000\n\n');
    const stop = events.open({
      user,
      sessionHash: session.tokenHash,
      write: (chunk) => {
        if (!raw.writableEnded && !raw.destroyed) raw.write(chunk);
      },
      end: () => {
        if (!raw.writableEnded) raw.end();
      },
    });
    // The response closes when the client goes away (the request's own 'close' means only that it was read).
    raw.once('close', stop);
    // A reset connection must not become an unhandled 'error' event.
    raw.on('error', stop);
    if (raw.destroyed || raw.socket?.destroyed) stop();
  });
}
