/**
 * The harness's handle on one API server process (api-host.ts): started on a database, it serves
 * Conveyor's HTTP API on a free port and hands back an admin's session token.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ApiHostEvent } from './api-host.ts';
import { childExecArgv } from './worker-process.ts';

const HOST = fileURLToPath(new URL('./api-host.ts', import.meta.url));

/** GET /metrics's bearer token on the bench's API servers (the scale benchmark reads the engine-call counts there). */
export const BENCH_METRICS_TOKEN = 'bench-metrics-token';

export class ApiProcess {
  readonly port: number;
  readonly token: string;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess, port: number, token: string) {
    this.#child = child;
    this.port = port;
    this.token = token;
  }

  /** Set if the server process ended while it was serving: its exit and the end of its stderr. */
  exitReason: string | null = null;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(databaseUrl: string): Promise<ApiProcess> {
    const child = fork(HOST, [], { execArgv: childExecArgv(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const events: ApiHostEvent[] = [];
    let wake = () => {};
    child.on('message', (event: ApiHostEvent) => {
      events.push(event);
      wake();
    });
    child.on('exit', () => wake());
    const next = async (): Promise<ApiHostEvent> => {
      while (events.length === 0) {
        if (child.exitCode !== null) throw new Error(`API process exited: ${stderr.trim()}`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return events.shift()!;
    };
    try {
      const ready = await next();
      if (ready.type !== 'ready') throw new Error(`API process: ${ready.type === 'error' ? ready.message : 'not ready'}`);
      child.send({ databaseUrl });
      const serving = await next();
      if (serving.type !== 'serving') throw new Error(`API process: ${serving.type === 'error' ? serving.message : 'did not serve'}`);
      const api = new ApiProcess(child, serving.port, serving.token);
      // A server that dies while serving says why in the error of the request that failed (see exitReason).
      child.on('exit', (code, signal) => (api.exitReason = `exited (${signal ?? `code ${code}`}) while serving: ${stderr.trim().split('\n').slice(-5).join(' | ') || 'no output'}`));
      return api;
    } catch (error) {
      await stopChild(child);
      throw error;
    }
  }

  /** Engine calls this server has made so far, by method (from GET /metrics; a scrape makes a few itself). */
  async engineCalls(): Promise<Map<string, number>> {
    const response = await fetch(`${this.url}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } });
    if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
    const calls = new Map<string, number>();
    for (const match of (await response.text()).matchAll(/^conveyor_engine_call_duration_seconds_count\{([^}]*)\} (\d+)/gm)) {
      const method = /method="([^"]+)"/.exec(match[1]!)?.[1] ?? '?';
      calls.set(method, (calls.get(method) ?? 0) + Number(match[2]));
    }
    return calls;
  }

  stop(): Promise<void> {
    return stopChild(this.#child);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ type: 'exit' });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
