import { CronTimes } from './cron-times.ts';

/** The roles quotas are configured for (the same names as the account roles). */
export type QuotaRole = 'user' | 'moderator' | 'admin';

/**
 * What one role may create and keep. 0 means unlimited; an empty domain list means any domain. Tasks
 * are counted in tasks (a batch of 1,000 counts 1,000), whichever path creates them: POST /tasks,
 * POST /tasks/batch, a schedule's run-now and a schedule's firing.
 */
export interface RoleQuota {
  /** Tasks created in any 60 seconds. */
  tasksPerMinute: number;
  /** Tasks pending, scheduled or retrying at once. */
  waitingTasks: number;
  /** Payload bytes (as JSON) of all the owner's stored tasks, finished ones included until pruned. */
  payloadBytes: number;
  /** The shortest gap between two firings of one schedule. */
  scheduleMinIntervalMs: number;
  /** Email recipients (to, cc and bcc) in any 24 hours. */
  emailRecipientsPerDay: number;
  /** Domains email tasks may send to (`example.com` also allows `sub.example.com`); empty: any. */
  emailDomains: readonly string[];
}

export type QuotaConfig = Readonly<Record<QuotaRole, Readonly<RoleQuota>>>;

export const UNLIMITED_QUOTA: RoleQuota = Object.freeze({
  tasksPerMinute: 0,
  waitingTasks: 0,
  payloadBytes: 0,
  scheduleMinIntervalMs: 0,
  emailRecipientsPerDay: 0,
  emailDomains: Object.freeze([]) as readonly string[],
});

/**
 * The defaults (the `quotas.*` settings' defaults): users get room for real work but not for flooding
 * a shared service; moderators ten times as much and no email limits; admins are exempt.
 */
export const DEFAULT_QUOTA_CONFIG: QuotaConfig = Object.freeze({
  user: Object.freeze({
    tasksPerMinute: 1_000,
    waitingTasks: 10_000,
    payloadBytes: 256 * 1024 * 1024,
    scheduleMinIntervalMs: 60_000,
    emailRecipientsPerDay: 100,
    emailDomains: Object.freeze([]) as readonly string[],
  }),
  moderator: Object.freeze({
    tasksPerMinute: 6_000,
    waitingTasks: 100_000,
    payloadBytes: 1024 * 1024 * 1024,
    scheduleMinIntervalMs: 0,
    emailRecipientsPerDay: 0,
    emailDomains: Object.freeze([]) as readonly string[],
  }),
  admin: UNLIMITED_QUOTA,
});

/** The limits of `role`; an unknown role gets the strictest (the user's). */
export function quotaFor(config: QuotaConfig, role: string): RoleQuota {
  return role === 'admin' || role === 'moderator' || role === 'user' ? config[role] : config.user;
}

/** The window of the per-minute quota and of the email day. */
export const QUOTA_MINUTE_MS = 60_000;
export const QUOTA_DAY_MS = 24 * 3_600_000;

/** The first millisecond of the per-minute window that ends at `now`: a task made exactly 60 s ago has left it. */
export function minuteWindowStart(now: Date): Date {
  return new Date(now.getTime() - QUOTA_MINUTE_MS + 1);
}

/** What an owner holds now, as the engine counts it (ownerUsage). */
export interface OwnerUsage {
  /** Tasks created since the start of the window. */
  createdInWindow: number;
  /** When the oldest of those was created (null when none): the window frees a slot 60 s after it. */
  oldestInWindow: Date | null;
  waiting: number;
  payloadBytes: number;
}

export type QuotaName = 'tasks_per_minute' | 'waiting_tasks' | 'payload_bytes' | 'email_recipients_per_day' | 'schedule_min_interval_ms';

/** Why a creation is refused: the quota by its setting name, its limit, what is used, and when to retry. */
export interface QuotaRefusal {
  quota: QuotaName;
  limit: number;
  used: number;
  requested: number;
  retryAfterMs: number;
  message: string;
}

/** A waiting-task or storage quota frees up as workers finish or the pruner runs: a hint, not a promise. */
const DRAIN_RETRY_MS = 30_000;

/** Which queries a check needs: none at all for a role with no limits (admins by default). */
export function quotaCountsNeeded(limits: RoleQuota): boolean {
  return limits.tasksPerMinute > 0 || limits.waitingTasks > 0 || limits.payloadBytes > 0;
}

/**
 * Whether adding `tasks` tasks holding `payloadBytes` fits the role's quotas, given the owner's usage:
 * null when it does, else the first quota it would exceed. All or nothing: a batch is judged whole.
 */
export function quotaRefusal(limits: RoleQuota, role: string, usage: OwnerUsage, adding: { tasks: number; payloadBytes: number }, now: Date): QuotaRefusal | null {
  const { tasks, payloadBytes } = adding;
  if (limits.tasksPerMinute > 0 && usage.createdInWindow + tasks > limits.tasksPerMinute) {
    const limit = limits.tasksPerMinute;
    const tooBig = tasks > limit;
    const frees = usage.oldestInWindow === null ? QUOTA_MINUTE_MS : usage.oldestInWindow.getTime() + QUOTA_MINUTE_MS - now.getTime();
    return {
      quota: 'tasks_per_minute',
      limit,
      used: usage.createdInWindow,
      requested: tasks,
      retryAfterMs: tooBig ? QUOTA_MINUTE_MS : Math.min(QUOTA_MINUTE_MS, Math.max(1_000, frees)),
      message: tooBig
        ? `Quota tasks_per_minute: ${tasks} tasks at once exceed the ${limit} tasks per minute the role ${role} may create; send smaller batches`
        : `Quota tasks_per_minute: the role ${role} may create ${limit} tasks per minute; ${usage.createdInWindow} were created in the last minute and this request adds ${tasks}`,
    };
  }
  if (limits.waitingTasks > 0 && usage.waiting + tasks > limits.waitingTasks) {
    const limit = limits.waitingTasks;
    return {
      quota: 'waiting_tasks',
      limit,
      used: usage.waiting,
      requested: tasks,
      retryAfterMs: DRAIN_RETRY_MS,
      message: `Quota waiting_tasks: the role ${role} may have ${limit} tasks waiting (pending, scheduled or retrying); ${usage.waiting} are waiting and this request adds ${tasks}`,
    };
  }
  if (limits.payloadBytes > 0 && usage.payloadBytes + payloadBytes > limits.payloadBytes) {
    const limit = limits.payloadBytes;
    return {
      quota: 'payload_bytes',
      limit,
      used: usage.payloadBytes,
      requested: payloadBytes,
      retryAfterMs: DRAIN_RETRY_MS,
      message: `Quota payload_bytes: the role ${role} may store ${limit} bytes of task payloads; ${usage.payloadBytes} are stored and this request adds ${payloadBytes} (delete finished tasks to free space)`,
    };
  }
  return null;
}

/** Firings looked at to find a schedule's shortest gap: enough for any calendar pattern within a day. */
const INTERVAL_SAMPLE = 1_500;

/**
 * The shortest gap between consecutive firings of `times` over its next firings (up to 1,500 of them,
 * or a year), in ms; null when it fires at most once in that span.
 */
export function shortestCronGap(times: CronTimes, from: Date): number | null {
  let shortest: number | null = null;
  let previous = times.next(from);
  const end = from.getTime() + 366 * QUOTA_DAY_MS;
  for (let i = 0; previous !== null && i < INTERVAL_SAMPLE && previous.getTime() < end; i++) {
    const next = times.next(previous);
    if (next === null) break;
    const gap = next.getTime() - previous.getTime();
    if (shortest === null || gap < shortest) shortest = gap;
    previous = next;
  }
  return shortest;
}

/** The refusal of a cron expression that fires more often than the role's minimum interval, or null. */
export function scheduleIntervalRefusal(limits: RoleQuota, role: string, times: CronTimes, now: Date): string | null {
  if (limits.scheduleMinIntervalMs <= 0) return null;
  const gap = shortestCronGap(times, now);
  if (gap === null || gap >= limits.scheduleMinIntervalMs) return null;
  return `fires every ${formatMs(gap)} at times; the role ${role} may schedule at most once every ${formatMs(limits.scheduleMinIntervalMs)} (quota schedule_min_interval_ms)`;
}

/** The first recipient whose domain the allowlist does not name, or null (an empty list allows any). */
export function recipientOutsideDomains(addresses: readonly string[], domains: readonly string[]): string | null {
  if (domains.length === 0) return null;
  const allowed = domains.map((domain) => domain.toLowerCase().replace(/^\*?\./, ''));
  for (const address of addresses) {
    const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
    if (!allowed.some((item) => domain === item || domain.endsWith(`.${item}`))) return address;
  }
  return null;
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1_000 === 0) return `${ms / 1_000} s`;
  return `${ms} ms`;
}
