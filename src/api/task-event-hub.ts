import { seesAllTasks } from '../auth/roles.ts';
import { breakerStateAt } from '../core/circuit-breaker.ts';
import type { ClockTimer } from '../core/clock.ts';
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
  /**
   * The shortest time between two refreshes: the notifications of a burst of changes are coalesced into
   * at most one refresh per this many milliseconds.
   */
  refreshMs?: number;
  /**
   * With nothing notified, the hub still refreshes this often: workers go quiet and breakers half-open
   * with time alone, and a notification may be lost while the listener reconnects.
   */
  heartbeatMs?: number;
  /** A role-user viewer's own stats, when only time moved the overall figures, are read again at most this often. */
  ownStatsMs?: number;
  /**
   * How often the sessions of all open streams are checked, in one query: a logout, logout-all,
   * deactivation or expiry anywhere (another API server, the CLI) ends a stream within this long.
   */
  liveSessionsMs?: number;
  /** A comment line keeps idle streams open through proxies. */
  keepAliveMs?: number;
  maxStreams?: number;
  maxStreamsPerUser?: number;
}

interface Stream {
  sink: EventSink;
  lastStatsKey: string | null;
  lastWriteAt: number;
}

interface Watched {
  updatedAt: number;
  createdBy: string | null;
  finished: boolean;
}

/** A role-user viewer's own stats, shared by that user's streams. */
interface OwnStats {
  stats: TaskStats;
  readAtMs: number;
}

/** Missing tasks looked up one by one per refresh, at most (the rest wait for the next change). */
const MAX_LOOKUPS = 50;
const WATCH_LIMIT = 100;

/**
 * Live updates for the dashboard, one hub per API server. It does not poll: it refreshes when the
 * engine says something changed (insert notifications, and the change notifications the dispatch layer
 * sends at most once a second per process after claims, completions, failures, cancellations...), at
 * most once per `refreshMs` however many changes arrive, and otherwise once per `heartbeatMs`. A
 * refresh is one set of shared reads (overall stats, the newest tasks, the running and retrying ones,
 * workers, breakers, paused types, limits) whatever the number of viewers; each viewer gets only what
 * it may see: changed tasks (their own, or all for moderators and admins), stats of their scope, and
 * hints that workers, breakers, paused types or limits changed. A role-user viewer's own stats are read
 * (one per distinct user) only when the overall figures moved, and when only time moved them (the
 * last-minute figures slide) at most once per `ownStatsMs`. So an open dashboard with nothing
 * changing costs the heartbeat's reads and one session query a second for all streams (which also
 * brings role changes), however long the history and however many viewers.
 *
 * Change detection is best effort (a task created and finished between two refreshes and already
 * pushed out of the newest list is not reported); the stats of every refresh still reflect it, and
 * the UI refreshes its lists when the counts move.
 */
export class TaskEventHub {
  readonly #ctx: ApiContext;
  readonly #logger: Logger;
  readonly #refreshMs: number;
  readonly #heartbeatMs: number;
  readonly #ownStatsMs: number;
  readonly #liveSessionsMs: number;
  readonly #keepAliveMs: number;
  readonly #maxStreams: number;
  readonly #maxStreamsPerUser: number;
  readonly #streams = new Set<Stream>();
  /** The next wake-up of the hub (a refresh, a session check or a keep-alive), and when it is due. */
  #timer: ClockTimer | null = null;
  #timerAtMs = Number.POSITIVE_INFINITY;
  #refreshing: Promise<void> | null = null;
  /** A change was notified (or a viewer arrived) since the last refresh started. */
  #dirty = false;
  #lastRefreshMs = Number.NEGATIVE_INFINITY;
  #liveSessionsCheckedMs = Number.NEGATIVE_INFINITY;
  /** The insert and change subscriptions, taken when the first stream opens and kept until close(). */
  #subscribing: Promise<void> | null = null;
  readonly #subscriptions: { close(): Promise<void> }[] = [];
  /** Null until the first refresh after someone starts watching: that refresh is the baseline. */
  #watch: Map<string, Watched> | null = null;
  #allKey = '';
  #monitorKey = '';
  readonly #ownStats = new Map<string, OwnStats>();
  #closed = false;

  constructor(ctx: ApiContext, options: HubOptions = {}) {
    this.#ctx = ctx;
    this.#logger = ctx.logger.child({ component: 'events' });
    this.#refreshMs = options.refreshMs ?? 1000;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#ownStatsMs = options.ownStatsMs ?? 60_000;
    this.#liveSessionsMs = options.liveSessionsMs ?? 1000;
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

  /** Starts a stream: a `hello` at once, then changes as refreshes find them. Returns how to stop it. */
  open(sink: EventSink): () => void {
    const now = this.#ctx.clock.nowMs();
    const stream: Stream = { sink, lastStatsKey: null, lastWriteAt: now };
    this.#streams.add(stream);
    const scope = seesAllTasks(sink.user.role) ? 'all' : 'own';
    this.#send(stream, 'hello', { user_id: sink.user.id, role: sink.user.role, scope, interval_ms: this.#refreshMs });
    this.#subscribe();
    // The first stats reach a new viewer with the next refresh: at once, or (when many open together) coalesced.
    this.#changed();
    return () => this.#remove(stream);
  }

  /**
   * Ends at once the streams of one session (logout) or of every session of a user (logout-all,
   * deactivation), on this server; other servers' streams end at their next session check.
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

  /** Resolves once the refresh under way (if any) is done; for tests driving a ManualClock. */
  async settled(): Promise<void> {
    while (this.#refreshing) await this.#refreshing;
  }

  /** Ends every stream (the server is stopping); idempotent. */
  close(): void {
    this.#closed = true;
    this.#unschedule();
    for (const stream of [...this.#streams]) this.#remove(stream);
    for (const subscription of this.#subscriptions.splice(0)) void subscription.close().catch(() => {});
  }

  #remove(stream: Stream): void {
    if (!this.#streams.delete(stream)) return;
    try {
      stream.sink.end();
    } catch {
      // already gone
    }
    if (this.#streams.size === 0) {
      this.#unschedule();
      // Changes made while nobody watches are not replayed; the next viewer starts from a fresh baseline.
      this.#watch = null;
      this.#ownStats.clear();
    }
  }

  /**
   * Listens for inserts and for changes (one LISTEN connection each on PostgreSQL, a watched file each
   * on SQLite). If that fails the heartbeat still refreshes, and the next stream to open tries again.
   */
  #subscribe(): void {
    if (this.#subscribing || this.#closed) return;
    const wake = () => this.#changed();
    this.#subscribing = (async () => {
      const results = await Promise.allSettled([this.#ctx.engine.listen({ onInsert: wake }), this.#ctx.engine.changeListen({ onChange: wake })]);
      const taken = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      if (this.#closed) {
        await Promise.all(taken.map((t) => t.close().catch(() => {})));
        return;
      }
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        this.#logger.warn({ err: (failed as PromiseRejectedResult).reason }, 'cannot listen for changes; the live view refreshes on its heartbeat only');
        await Promise.all(taken.map((t) => t.close().catch(() => {})));
        this.#subscribing = null;
        return;
      }
      this.#subscriptions.push(...taken);
    })();
  }

  /** Something changed (a notification, or a new viewer): refresh as soon as the coalescing allows. */
  #changed(): void {
    if (this.#closed || this.#streams.size === 0) return;
    this.#dirty = true;
    // A refresh under way schedules the next one when it ends.
    if (!this.#refreshing) this.#schedule();
  }

  /** Sets the timer for whatever is due first: a refresh, the session check or a keep-alive. */
  #schedule(): void {
    if (this.#closed || this.#streams.size === 0) return;
    const refreshAt = this.#lastRefreshMs + (this.#dirty ? this.#refreshMs : this.#heartbeatMs);
    let dueAt = Math.min(refreshAt, this.#liveSessionsCheckedMs + this.#liveSessionsMs);
    for (const stream of this.#streams) {
      dueAt = Math.min(dueAt, stream.lastWriteAt + this.#keepAliveMs);
    }
    if (this.#timer && this.#timerAtMs <= dueAt) return;
    this.#unschedule();
    const clock = this.#ctx.clock;
    this.#timerAtMs = dueAt;
    this.#timer = clock.setTimeout(() => this.#tick(), Math.max(0, dueAt - clock.nowMs()));
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #unschedule(): void {
    this.#ctx.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAtMs = Number.POSITIVE_INFINITY;
  }

  #tick(): void {
    this.#timer = null;
    this.#timerAtMs = Number.POSITIVE_INFINITY;
    // One run at a time: a slow database delays the next one instead of piling queries up.
    this.#refreshing ??= this.#run()
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'event refresh failed'))
      .finally(() => {
        this.#refreshing = null;
        this.#schedule();
      });
  }

  /** A refresh when one is due; otherwise only the session checks and keep-alives that are. */
  async #run(): Promise<void> {
    if (this.#streams.size === 0) return;
    const now = this.#ctx.clock.now();
    if (now.getTime() >= this.#liveSessionsCheckedMs + this.#liveSessionsMs) {
      this.#liveSessionsCheckedMs = now.getTime();
      await this.#checkLiveSessions(now);
    }
    if (this.#streams.size === 0) return;
    if (now.getTime() >= this.#lastRefreshMs + (this.#dirty ? this.#refreshMs : this.#heartbeatMs)) {
      const notified = this.#dirty;
      this.#dirty = false;
      this.#lastRefreshMs = now.getTime();
      await this.#refresh(now, notified);
    }
    for (const stream of this.#streams) {
      if (this.#ctx.clock.nowMs() - stream.lastWriteAt >= this.#keepAliveMs) this.#write(stream, ': keep-alive\n\n');
    }
  }

  async #refresh(now: Date, notified: boolean): Promise<void> {
    const { engine } = this.#ctx;
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

    const monitorKey = JSON.stringify([
      workers.map((w) => [w.id, w.running, w.concurrency, isLive(this.#ctx, w, now)]).sort(),
      breakers.map((b) => [b.taskType, b.scope, breakerStateAt(b, now), b.consecutiveFailures]),
      pauses.map((p) => [p.taskType, p.reason]),
      limits.map((l) => [l.taskType, l.maxRunning]),
    ]);
    const monitorMoved = this.#monitorKey !== '' && monitorKey !== this.#monitorKey;
    this.#monitorKey = monitorKey;

    const readThisTime = new Set<string>();
    const watching = new Set([...this.#streams].map((stream) => stream.sink.user.id));
    for (const userId of this.#ownStats.keys()) if (!watching.has(userId)) this.#ownStats.delete(userId);
    for (const stream of [...this.#streams]) {
      const user = stream.sink.user;
      const all = seesAllTasks(user.role);
      const visible = all ? changed : changed.filter((t) => t.createdBy === user.id);
      const gone = deleted.filter((d) => all || d.createdBy === user.id).map((d) => d.id);
      if (visible.length > 0 || gone.length > 0) this.#send(stream, 'tasks', { tasks: visible.map(taskSummary), deleted: gone });

      let scoped: TaskStats | undefined = stats;
      if (!all) scoped = await this.#ownStatsOf(user.id, stream.lastStatsKey === null, allMoved, notified, now, readThisTime);
      const key = statsKey(scoped, workerTypes);
      if (key !== stream.lastStatsKey) {
        stream.lastStatsKey = key;
        this.#send(stream, 'stats', { ...taskStatsView(scoped, all ? 'all' : 'own', workerTypes), at: now.toISOString() });
      }
      if (monitorMoved) this.#send(stream, 'monitor', { workers: all, breakers: true });
    }
  }

  /**
   * A role-user viewer's own stats: one read per distinct user, and only when they may have moved (a
   * new viewer; the overall figures moved because of a change; or, when only time moved them, at most
   * once per ownStatsMs). Otherwise the last ones read.
   */
  async #ownStatsOf(userId: string, isNew: boolean, allMoved: boolean, notified: boolean, now: Date, readThisTime: Set<string>): Promise<TaskStats> {
    const known = this.#ownStats.get(userId);
    const stale = !known || isNew || (allMoved && (notified || now.getTime() - known.readAtMs >= this.#ownStatsMs));
    if (known && (readThisTime.has(userId) || !stale)) return known.stats;
    const stats = await this.#ctx.engine.taskStats({ now, createdBy: userId });
    this.#ownStats.set(userId, { stats, readAtMs: now.getTime() });
    readThisTime.add(userId);
    return stats;
  }

  /**
   * Tasks that changed since the last refresh, and the ones that disappeared (deleted or pruned). `recent`
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

  /**
   * A logged-out, expired or deactivated session ends its stream, and a changed role takes effect,
   * wherever that happened (another API server, the CLI): one query for all open streams asks which
   * of their sessions still stand, with their users' roles.
   */
  async #checkLiveSessions(now: Date): Promise<void> {
    // Only the streams asked about are judged: one opened while the query ran waits for the next check.
    const asked = [...this.#streams];
    const roles = new Map(
      (await this.#ctx.engine.sessionLiveRoles({ tokenHashes: [...new Set(asked.map((s) => s.sink.sessionHash))], now })).map((live) => [live.tokenHash, live.role]),
    );
    for (const stream of asked) {
      const role = roles.get(stream.sink.sessionHash);
      if (role === undefined) this.#endSession(stream);
      else if (role !== stream.sink.user.role) {
        stream.sink.user = { ...stream.sink.user, role };
        // The new scope's stats and tasks come with the next refresh.
        stream.lastStatsKey = null;
        this.#dirty = true;
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
    // A stream may have closed while this refresh awaited the database.
    if (!this.#streams.has(stream)) return;
    try {
      stream.sink.write(chunk);
      stream.lastWriteAt = this.#ctx.clock.nowMs();
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
