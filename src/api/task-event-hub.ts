import { seesAllTasks } from '../auth/roles.ts';
import { breakerStateAt } from '../core/circuit-breaker.ts';
import type { Logger } from '../core/logger.ts';
import type { TaskRecord } from '../core/task.ts';
import type { TaskStats, UserRecord } from '../store/engine.ts';
import { ApiError } from './api-error.ts';
import type { ApiContext } from './api-context.ts';
import { isLive } from './live-workers.ts';
import { taskStatsView } from './views/stats-view.ts';
import { taskSummary } from './views/task-view.ts';

/** One open event stream: who is watching, and how to reach them. */
export interface EventSink {
  user: UserRecord;
  /** The SHA-256 of the session token the stream was opened with (re-checked while it stays open). */
  sessionHash: string;
  write(chunk: string): void;
  end(): void;
}

export interface HubOptions {
  /** How often the engine is polled while anyone watches. */
  intervalMs?: number;
  /**
   * How often each stream's user is read again, so a changed role takes effect. (Whether its session
   * still stands is checked on every poll: a logout, deactivation or expiry ends a stream within one.)
   */
  sessionCheckMs?: number;
  /** A comment line keeps idle streams open through proxies. */
  keepAliveMs?: number;
  maxStreams?: number;
  maxStreamsPerUser?: number;
}

interface Stream {
  sink: EventSink;
  lastStatsKey: string | null;
  sessionCheckedAt: number;
  lastWriteAt: number;
}

interface Watched {
  updatedAt: number;
  createdBy: string | null;
  finished: boolean;
}

/** Completions and failures in one whole minute (epoch minute number). */
interface MinutePoint {
  minute: number;
  completed: number;
  failed: number;
}

/** A per-minute series: a point is recorded when the minute after it is first observed. */
interface Series {
  lastMinute: number;
  points: MinutePoint[];
}

/** Missing tasks looked up one by one per poll, at most (the rest wait for the next change). */
const MAX_LOOKUPS = 50;
const WATCH_LIMIT = 100;
const SERIES_MINUTES = 60;

/**
 * Live updates for the dashboard, one hub per API server. While at least one stream is open it polls
 * the engine once per interval (not once per stream): overall stats, the newest tasks and the running
 * and retrying ones. It compares them with the last poll and pushes to each stream only what that
 * user may see: changed tasks (their own, or all for moderators and admins), stats of their scope, and
 * hints that workers, breakers, paused types or limits changed. No engine change is needed, and the cost does not grow with
 * the number of viewers, only (for role user) with the number of distinct users watching.
 *
 * Change detection is best effort (a task created and finished between two polls and already pushed
 * out of the newest list is not reported); the stats of every poll still reflect it, and the UI
 * refreshes its lists when the counts move.
 */
export class TaskEventHub {
  readonly #ctx: ApiContext;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #sessionCheckMs: number;
  readonly #keepAliveMs: number;
  readonly #maxStreams: number;
  readonly #maxStreamsPerUser: number;
  readonly #streams = new Set<Stream>();
  #timer: NodeJS.Timeout | null = null;
  #sampler: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;
  /** Null until the first poll after someone starts watching: that poll is the baseline. */
  #watch: Map<string, Watched> | null = null;
  #allKey = '';
  #monitorKey = '';
  readonly #series = new Map<string, Series>();
  #closed = false;

  constructor(ctx: ApiContext, options: HubOptions = {}) {
    this.#ctx = ctx;
    this.#logger = ctx.logger.child({ component: 'events' });
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#sessionCheckMs = options.sessionCheckMs ?? 30_000;
    this.#keepAliveMs = options.keepAliveMs ?? 15_000;
    this.#maxStreams = options.maxStreams ?? 500;
    this.#maxStreamsPerUser = options.maxStreamsPerUser ?? 10;
  }

  /** Refuses (429) a stream over the limits, before the response is started. */
  admit(user: UserRecord): void {
    if (this.#closed) throw new ApiError('SERVICE_UNAVAILABLE', 'The server is shutting down');
    const mine = [...this.#streams].filter((s) => s.sink.user.id === user.id).length;
    if (this.#streams.size >= this.#maxStreams || mine >= this.#maxStreamsPerUser) {
      throw new ApiError('RATE_LIMITED', 'Too many open event streams; close another tab first', { retryAfterMs: 5000 });
    }
  }

  /** Starts a stream: a `hello` at once, then changes as polls find them. Returns how to stop it. */
  open(sink: EventSink): () => void {
    const now = Date.now();
    const stream: Stream = { sink, lastStatsKey: null, sessionCheckedAt: now, lastWriteAt: now };
    this.#streams.add(stream);
    const scope = seesAllTasks(sink.user.role) ? 'all' : 'own';
    this.#send(stream, 'hello', { user_id: sink.user.id, role: sink.user.role, scope, interval_ms: this.#intervalMs });
    this.#startPolling();
    return () => this.#remove(stream);
  }

  /**
   * Ends at once the streams of one session (logout) or of every session of a user (logout-all,
   * deactivation), on this server; other servers' streams end at their next poll.
   */
  endSessions(match: { sessionHash: string } | { userId: string }): void {
    for (const stream of [...this.#streams]) {
      const hit = 'sessionHash' in match ? stream.sink.sessionHash === match.sessionHash : stream.sink.user.id === match.userId;
      if (hit) this.#endSession(stream);
    }
  }

  get streams(): number {
    return this.#streams.size;
  }

  /** Ends every stream (the server is stopping); idempotent. */
  close(): void {
    this.#closed = true;
    this.#stopPolling();
    if (this.#sampler) clearTimeout(this.#sampler);
    this.#sampler = null;
    for (const stream of [...this.#streams]) this.#remove(stream);
  }

  #remove(stream: Stream): void {
    if (!this.#streams.delete(stream)) return;
    try {
      stream.sink.end();
    } catch {
      // already gone
    }
    if (this.#streams.size === 0) this.#stopPolling();
  }

  #startPolling(): void {
    if (this.#closed) return;
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.#poll(), this.#intervalMs);
      this.#timer.unref();
    }
    // The first stats reach a new viewer at once rather than an interval later.
    void this.#poll();
    this.#scheduleSampler();
  }

  #stopPolling(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    // Changes made while nobody watches are not replayed; the next viewer starts from a fresh baseline.
    this.#watch = null;
  }

  /**
   * Once anyone has watched, the overall throughput keeps being sampled each minute (one stats query),
   * so the chart has history when the next viewer arrives.
   */
  #scheduleSampler(): void {
    if (this.#sampler || this.#closed) return;
    const delay = 60_000 - (Date.now() % 60_000) + 250;
    this.#sampler = setTimeout(() => {
      this.#sampler = null;
      void (async () => {
        if (this.#streams.size === 0) {
          try {
            const now = this.#ctx.clock.now();
            this.#record('all', await this.#ctx.engine.taskStats({ now }), now);
          } catch (error) {
            this.#logger.warn({ err: error }, 'could not sample task stats');
          }
        }
        this.#scheduleSampler();
      })();
    }, delay);
    this.#sampler.unref();
  }

  #poll(): Promise<void> {
    // One poll at a time: a slow database delays the next one instead of piling queries up.
    this.#polling ??= this.#pollOnce()
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'event poll failed'))
      .finally(() => {
        this.#polling = null;
      });
    return this.#polling;
  }

  async #pollOnce(): Promise<void> {
    if (this.#streams.size === 0) return;
    const { engine, clock } = this.#ctx;
    const now = clock.now();
    await this.#checkSessions(now);
    if (this.#streams.size === 0) return;

    const [stats, recent, active, workers, breakers, pauses, limits] = await Promise.all([
      engine.taskStats({ now }),
      engine.taskList({ limit: WATCH_LIMIT }),
      engine.taskList({ status: ['running', 'retrying'], limit: WATCH_LIMIT }),
      engine.workerList(),
      engine.breakerList(),
      engine.typePauseList(),
      engine.typeLimitList(),
    ]);
    const { changed, deleted } = await this.#diff(recent.tasks, active.tasks);

    // The age of the oldest ready task moves every second; viewers age it themselves.
    const workerTypes = workers.filter((w) => isLive(this.#ctx, w, now)).map((w) => w.taskTypes);
    const allKey = statsKey(stats, workerTypes);
    const allMoved = allKey !== this.#allKey;
    this.#allKey = allKey;
    const rolled = this.#record('all', stats, now);

    const monitorKey = JSON.stringify([
      workers.map((w) => [w.id, w.running, w.concurrency, isLive(this.#ctx, w, now)]).sort(),
      breakers.map((b) => [b.taskType, b.scope, breakerStateAt(b, now), b.consecutiveFailures]),
      pauses.map((p) => [p.taskType, p.reason]),
      limits.map((l) => [l.taskType, l.maxRunning]),
    ]);
    const monitorMoved = this.#monitorKey !== '' && monitorKey !== this.#monitorKey;
    this.#monitorKey = monitorKey;

    const ownStats = new Map<string, TaskStats>();
    for (const stream of this.#streams) {
      const user = stream.sink.user;
      const all = seesAllTasks(user.role);
      const visible = all ? changed : changed.filter((t) => t.createdBy === user.id);
      const gone = deleted.filter((d) => all || d.createdBy === user.id).map((d) => d.id);
      if (visible.length > 0 || gone.length > 0) this.#send(stream, 'tasks', { tasks: visible.map(taskSummary), deleted: gone });

      let scoped: TaskStats | undefined = stats;
      let key = allKey;
      let series = 'all';
      if (!all) {
        series = user.id;
        scoped = ownStats.get(user.id);
        // Role user's counts are recomputed only when something moved (or for a new viewer).
        if (!scoped && (allMoved || rolled || stream.lastStatsKey === null)) {
          scoped = await engine.taskStats({ now, createdBy: user.id });
          ownStats.set(user.id, scoped);
          this.#record(user.id, scoped, now);
        }
        key = scoped ? statsKey(scoped, workerTypes) : (stream.lastStatsKey ?? '');
      }
      const seriesMoved = rolled && stream.lastStatsKey !== null;
      if (scoped && (key !== stream.lastStatsKey || seriesMoved)) {
        stream.lastStatsKey = key;
        this.#send(stream, 'stats', { ...taskStatsView(scoped, all ? 'all' : 'own', workerTypes), at: now.toISOString(), throughput: this.#throughput(series, now) });
      }
      if (monitorMoved) this.#send(stream, 'monitor', { workers: all, breakers: true });
      if (Date.now() - stream.lastWriteAt >= this.#keepAliveMs) this.#write(stream, ': keep-alive\n\n');
    }
  }

  /**
   * Tasks that changed since the last poll, and the ones that disappeared (deleted or pruned). `recent`
   * is the newest tasks, newest first; `active` the running and retrying ones.
   */
  async #diff(recent: TaskRecord[], active: TaskRecord[]): Promise<{ changed: TaskRecord[]; deleted: { id: string; createdBy: string | null }[] }> {
    const seen = new Map<string, TaskRecord>();
    for (const task of [...recent, ...active]) seen.set(task.id, task);
    // The list is ordered by id (UUIDv7, so by creation): every task with an id above the last one listed
    // is in it, unless it no longer exists.
    const windowStart = recent.length >= WATCH_LIMIT ? recent[recent.length - 1]!.id : '';
    const previous = this.#watch;
    const changed: TaskRecord[] = [];
    const deleted: { id: string; createdBy: string | null }[] = [];
    if (previous) {
      for (const task of seen.values()) {
        if (previous.get(task.id)?.updatedAt !== task.updatedAt.getTime()) changed.push(task);
      }
      const lookups: [string, Watched][] = [];
      for (const [id, w] of previous) {
        if (seen.has(id)) continue;
        if (id > windowStart) deleted.push({ id, createdBy: w.createdBy });
        // Pushed out of the window by newer tasks: if it was still moving, look at where it went.
        else if (!w.finished && lookups.length < MAX_LOOKUPS) lookups.push([id, w]);
      }
      const found = await Promise.all(lookups.map(([id]) => this.#ctx.engine.taskGet({ id })));
      lookups.forEach(([id, w], i) => {
        const task = found[i];
        if (!task) deleted.push({ id, createdBy: w.createdBy });
        else if (task.updatedAt.getTime() !== w.updatedAt) changed.push(task);
      });
    }
    this.#watch = new Map(
      [...seen.values()].map((t) => [
        t.id,
        { updatedAt: t.updatedAt.getTime(), createdBy: t.createdBy, finished: ['completed', 'failed', 'cancelled'].includes(t.status) },
      ]),
    );
    return { changed, deleted };
  }

  /** Records the last whole minute's counts when a new minute is first seen; true when it did. */
  #record(key: string, stats: TaskStats, now: Date): boolean {
    const minute = Math.floor(now.getTime() / 60_000);
    const series = this.#series.get(key) ?? { lastMinute: -1, points: [] };
    this.#series.set(key, series);
    if (series.lastMinute === minute) return false;
    // Seen during the previous minute too: "the last minute" now is that minute.
    if (series.lastMinute === minute - 1) series.points.push({ minute: minute - 1, completed: stats.completedLastMinute, failed: stats.failedLastMinute });
    series.lastMinute = minute;
    series.points = series.points.filter((p) => p.minute >= minute - SERIES_MINUTES);
    return true;
  }

  #throughput(key: string, now: Date) {
    const minute = Math.floor(now.getTime() / 60_000);
    const points = (this.#series.get(key)?.points ?? []).filter((p) => p.minute >= minute - SERIES_MINUTES);
    return points.map((p) => ({ minute_start: new Date(p.minute * 60_000).toISOString(), completed: p.completed, failed: p.failed }));
  }

  /**
   * A logged-out, expired or deactivated session ends its stream, wherever that happened (another API
   * server, the CLI): every poll asks in one query which sessions still stand. Less often each
   * stream's user is read again, so a changed role takes effect.
   */
  async #checkSessions(now: Date): Promise<void> {
    // Only the streams asked about are judged: one opened while the query ran waits for the next poll.
    const asked = [...this.#streams];
    const live = new Set(await this.#ctx.engine.sessionLiveHashes({ tokenHashes: [...new Set(asked.map((s) => s.sink.sessionHash))], now }));
    for (const stream of asked) if (!live.has(stream.sink.sessionHash)) this.#endSession(stream);
    const due = [...this.#streams].filter((s) => Date.now() - s.sessionCheckedAt >= this.#sessionCheckMs);
    for (const stream of due) {
      stream.sessionCheckedAt = Date.now();
      const user = (await this.#ctx.engine.sessionGet({ tokenHash: stream.sink.sessionHash, now }))?.user;
      if (!user || !user.isActive) {
        this.#endSession(stream);
      } else {
        if (user.role !== stream.sink.user.role) stream.lastStatsKey = null;
        stream.sink.user = user;
      }
    }
  }

  #endSession(stream: Stream): void {
    this.#send(stream, 'session_ended', { reason: 'The session ended; log in again' });
    this.#remove(stream);
  }

  #send(stream: Stream, event: string, data: unknown): void {
    this.#write(stream, `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  #write(stream: Stream, chunk: string): void {
    // A stream may have closed while this poll awaited the database.
    if (!this.#streams.has(stream)) return;
    try {
      stream.sink.write(chunk);
      stream.lastWriteAt = Date.now();
    } catch (error) {
      this.#logger.debug({ err: error }, 'event stream write failed');
      this.#remove(stream);
    }
  }
}

/** One hub per app: the routes are installed twice (at / and /api/v1) with the same context. */
const hubs = new WeakMap<ApiContext, TaskEventHub>();

/** The app's hub, for the events route and for the routes that end sessions (their streams end with them). */
export function eventHubOf(ctx: ApiContext): TaskEventHub {
  let hub = hubs.get(ctx);
  if (!hub) {
    hub = new TaskEventHub(ctx);
    hubs.set(ctx, hub);
  }
  return hub;
}

/** What the viewers' stats show, but the ready age (viewers age it themselves); live workers' types decide unhandled_types. */
function statsKey(stats: TaskStats, liveWorkerTypes: readonly (readonly string[])[]): string {
  const { oldestReadyAgeMs: _age, ...rest } = stats;
  return JSON.stringify([rest, liveWorkerTypes.map((types) => [...types].sort().join(',')).sort()]);
}
