/**
 * HTTP POST /tasks with autocannon, against Conveyor's API served from its own process (the peers
 * have no HTTP API of their own). The audit: every 2xx answer must have left exactly one task in the
 * store.
 */
import autocannon from 'autocannon';
import { ConveyorClient } from '../../src/client/conveyor-client.ts';
import { conveyorDatabaseUrl } from '../systems/conveyor.ts';
import { WORK_QUEUE, type SystemDefinition } from '../systems/system.ts';
import { auditStored } from './audit.ts';
import { ApiProcess } from './api-process.ts';
import { allocateLocation, releaseLocation } from './locations.ts';
import type { BenchMetrics } from './metrics.ts';
import type { BenchOptions } from './options.ts';
import type { Results } from './results.ts';

/** One autocannon run: requests per second from the first request to the last response, and p99. */
async function cannon(p: { port: number; token: string; connections: number; amount: number; method: 'POST' | 'GET'; path: string }) {
  // autocannon's own duration runs to its next one-second sample tick; the rate here runs from the
  // start to the last response instead.
  let lastResponseAt = 0;
  const startedAt = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${p.port}${p.path}`,
        method: p.method,
        connections: p.connections,
        amount: p.amount,
        headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
        ...(p.method === 'POST' ? { body: JSON.stringify({ task_type: WORK_QUEUE, payload: { w: 'http', i: 0, t: 0 } }) } : {}),
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', () => {
      lastResponseAt = performance.now();
    });
  });
  const accepted = result['2xx'];
  const note = result.non2xx > 0 || result.errors > 0 ? `${result.non2xx} non-2xx answers, ${result.errors} connection errors` : undefined;
  return { accepted, rate: accepted / ((lastResponseAt - startedAt) / 1000), p99: result.latency.p99, note };
}

async function firstTaskId(port: number, token: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/tasks?limit=1`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as { data: { id: string }[] };
  const id = body.data[0]?.id;
  if (!id) throw new Error('GET /tasks returned no task to read back');
  return id;
}

export async function runHttpBench(p: { definition: SystemDefinition; run: number; options: BenchOptions; metrics: BenchMetrics; results: Results }): Promise<void> {
  const { definition, options, metrics, results } = p;
  const location = await allocateLocation(definition);
  const databaseUrl = conveyorDatabaseUrl(location);
  const serving = await ApiProcess.start(databaseUrl).catch(async (error: unknown) => {
    await releaseLocation(location);
    throw error;
  });
  try {
    let accepted = 0;
    let someTaskId: string | null = null;
    for (const connections of options.httpConnections) {
      const post = await cannon({ port: serving.port, token: serving.token, connections, amount: options.httpRequests, method: 'POST', path: '/tasks' });
      accepted += post.accepted;
      results.add(metrics.http('POST /tasks', connections), definition.id, post.rate, post.note);
      results.add(metrics.httpP99('POST /tasks', connections), definition.id, post.p99);
      someTaskId ??= await firstTaskId(serving.port, serving.token);
      const get = await cannon({ port: serving.port, token: serving.token, connections, amount: options.httpRequests, method: 'GET', path: `/tasks/${someTaskId}` });
      results.add(metrics.http('GET /tasks/:id', connections), definition.id, get.rate, get.note);
      results.add(metrics.httpP99('GET /tasks/:id', connections), definition.id, get.p99);
    }

    const client = await ConveyorClient.open({ databaseUrl, migrate: false });
    try {
      // A list's total stops at 10,000 ("10,000+"); the stats count every stored task exactly.
      const counts = (await client.stats()).byType[WORK_QUEUE] ?? {};
      const stored = Object.values(counts).reduce((sum, count) => sum + (count ?? 0), 0);
      results.check(auditStored({ run: p.run, workload: 'HTTP POST /tasks', system: definition.id, expected: accepted, stored }));
    } finally {
      await client.close();
    }
  } finally {
    await serving.stop();
    await releaseLocation(location);
  }
}
