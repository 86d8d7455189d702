/**
 * p50 and p99 of every read an operator's dashboard or script makes, over HTTP against a real API
 * server: one request at a time (the latency of a read, not the server's throughput), after a warm-up.
 */
import { percentile } from '../stats.ts';
import type { Caller } from './http-session.ts';

export interface ReadResult {
  read: string;
  as: 'admin' | 'user';
  p50Ms: number;
  p99Ms: number;
  /** What one answer held, to show the read was not empty by accident. */
  rows: number | null;
  total: string | null;
}

const STATUSES = ['pending', 'scheduled', 'running', 'retrying', 'completed', 'failed', 'cancelled'];

/** The reads, as [label, who, path]. `someId` is a task in the history; `cursor` page 1's next_cursor. */
function reads(p: { someId: string; cursor: string; taskType: string }): [string, 'admin' | 'user', string][] {
  const list = '/tasks?limit=20';
  return [
    ['GET /tasks?limit=20', 'admin', list],
    ['GET /tasks?limit=20, page 2 (cursor)', 'admin', `${list}&cursor=${encodeURIComponent(p.cursor)}`],
    ...STATUSES.map((status): [string, 'admin', string] => [`GET /tasks?status=${status}`, 'admin', `${list}&status=${status}`]),
    [`GET /tasks?task_type=${p.taskType}`, 'admin', `${list}&task_type=${p.taskType}`],
    [`GET /tasks?task_type=${p.taskType}&status=failed`, 'admin', `${list}&task_type=${p.taskType}&status=failed`],
    ['GET /tasks?limit=20 (own tasks)', 'user', list],
    ['GET /tasks?status=failed (own tasks)', 'user', `${list}&status=failed`],
    ['GET /tasks/dead-letter?limit=20', 'admin', '/tasks/dead-letter?limit=20'],
    ['GET /tasks/stats', 'admin', '/tasks/stats'],
    ['GET /tasks/stats (own tasks)', 'user', '/tasks/stats'],
    ['GET /tasks/:id', 'admin', `/tasks/${p.someId}`],
    ['GET /tasks/types', 'admin', '/tasks/types'],
    ['GET /workers', 'admin', '/workers'],
    ['GET /tasks/history?range=1h', 'admin', '/tasks/history?range=1h'],
    ['GET /tasks/history?range=24h', 'admin', '/tasks/history?range=24h'],
    ['GET /tasks/history?range=7d', 'admin', '/tasks/history?range=7d'],
    ['GET /tasks/history?range=24h (own tasks)', 'user', '/tasks/history?range=24h'],
  ];
}

export async function measureReads(p: { admin: Caller; user: Caller; requests: number; warmup: number; taskType: string; onRead?: (label: string) => void }): Promise<ReadResult[]> {
  const firstPage = await fetchJson(p.admin, '/tasks?limit=20');
  const page = firstPage as { data: { id: string }[]; pagination: { next_cursor: string | null } };
  const someId = page.data[Math.floor(page.data.length / 2)]?.id;
  if (!someId || !page.pagination.next_cursor) throw new Error('the history has no second page of tasks');
  const results: ReadResult[] = [];
  for (const [read, as, path] of reads({ someId, cursor: page.pagination.next_cursor, taskType: p.taskType })) {
    p.onRead?.(read);
    const caller = as === 'admin' ? p.admin : p.user;
    let answer: unknown = null;
    for (let i = 0; i < p.warmup; i++) answer = await fetchJson(caller, path);
    const times: number[] = [];
    for (let i = 0; i < p.requests; i++) {
      const started = performance.now();
      answer = await fetchJson(caller, path);
      times.push(performance.now() - started);
    }
    const body = answer as { data: unknown; pagination?: { total: number | null; total_is_exact: boolean } };
    results.push({
      read,
      as,
      p50Ms: percentile(times, 50),
      p99Ms: percentile(times, 99),
      rows: Array.isArray(body.data) ? body.data.length : null,
      total: body.pagination ? `${body.pagination.total ?? '-'}${body.pagination.total_is_exact ? '' : '+'}` : null,
    });
  }
  return results;
}

/** The whole envelope (call() unwraps data; a list's pagination is needed here). */
async function fetchJson(caller: Caller, path: string): Promise<unknown> {
  const response = await fetchOnce(caller, path).catch((error: unknown) => {
    // A keep-alive connection the server closed while the history was built (idle past its keep-alive
    // timeout) can be handed out once more before the client notices: that request goes again.
    if ((error as { cause?: { code?: string } }).cause?.code !== 'UND_ERR_SOCKET') throw error;
    return fetchOnce(caller, path);
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

function fetchOnce(caller: Caller, path: string): Promise<Response> {
  return fetch(`${caller.baseUrl}${path}`, { headers: { authorization: `Bearer ${caller.token}` } });
}
