import { DEFAULT_API_CONFIG as API } from '../api/api-config.ts';
import { ConveyorError, ERROR_CODES } from '../core/errors.ts';
import { DEFAULT_QUOTA_CONFIG, type QuotaConfig } from '../core/quota.ts';
import { findConfigFile, fileError, readConfigFile, type ConfigFileContent } from './config-file.ts';
import { anyText, bool, decimal, integer, list, oneOf, originList, scaled, secret, taskTypeList, text } from './config-values.ts';
import { DEFAULT_DATABASE_URL, parseDatabaseUrl } from '../store/database-url.ts';
import { REGISTRATION_POLICIES } from '../auth/auth-config.ts';
import { defaultEventLoopMaxBlockMs } from '../worker/event-loop-watchdog.ts';
import {
  DEFAULT_BREAKER_SETTINGS,
  DEFAULT_WORKER_SETTINGS,
  defaultHeartbeatMs,
  defaultMaintenanceIntervalMs,
} from '../worker/worker-config.ts';

/**
 * The one place that reads the environment (and the config file). Everything else receives the
 * resolved, frozen Config.
 *
 * Names: `CONVEYOR__<SECTION>__<KEY>` (double underscores), e.g. CONVEYOR__WORKER__CONCURRENCY=8 is
 * `worker.concurrency`. The guide's `STARTER__<SECTION>__<KEY>` names are accepted too; when both are
 * set, CONVEYOR wins. A few settings also answer to a conventional name (DATABASE_URL) or to the
 * guide's unit (STARTER__WORKER__POLL_INTERVAL_SECS). Empty values count as unset.
 *
 * Below the environment comes a JSON file (config-file.ts): `{ "worker": { "concurrency": 8 } }`,
 * from CONVEYOR_CONFIG / `--config`, or ./conveyor.config.json; its values go through the same parsers.
 *
 * To add a setting or a section: declare it in `SPEC` below (parser, default, description, aliases);
 * Config's type, `conveyor config --defaults` and docs/configuration.md follow from it. A setting that
 * a library part also uses without the CLI takes its default from that part's own defaults object
 * (DEFAULT_WORKER_SETTINGS, DEFAULT_BREAKER_SETTINGS, DEFAULT_API_CONFIG, DEFAULT_QUOTA_CONFIG), so no default is
 * written twice.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The resolved configuration: its type is read off SPEC (one section per key, one value per setting,
 * typed by the setting's parser), so a setting is declared once, below.
 */
export type Config = { readonly [S in keyof typeof SPEC]: Readonly<{ -readonly [K in keyof (typeof SPEC)[S]]: SettingValue<(typeof SPEC)[S][K]> }> };

type SettingValue<X> = X extends { parse(raw: string): infer T } ? Exclude<T, undefined> : never;

type Env = Record<string, string | undefined>;

/** The settings of a section resolved so far, which a derived default reads. */
type SectionSoFar = Record<string, unknown>;

interface Alias<T> {
  /** A key under the same section, with either prefix (POLL_INTERVAL_SECS). */
  key?: string;
  /** A whole environment name (DATABASE_URL). */
  env?: string;
  allowed: string;
  parse(raw: string): T | undefined;
}

interface Setting<T> {
  /** One sentence for `conveyor config --defaults` and docs/configuration.md. */
  description: string;
  /** What is allowed, as the error message says it. */
  allowed: string;
  /** A value, or one computed from the settings of the section read so far (declaration order). */
  default: T | ((section: Record<string, unknown>) => T);
  /** The value, or undefined when `raw` is not allowed. */
  parse(raw: string): T | undefined;
  aliases?: readonly Alias<T>[];
}

/** The shape SPEC must have; `satisfies` checks it without widening SPEC's own (inferred) types. */
type SpecShape = Readonly<Record<string, Readonly<Record<string, Setting<unknown>>>>>;

/** The API's trust_proxy default as the setting's text (false, true, or the proxies' addresses). */
function trustProxySetting(trust: boolean | string | readonly string[]): string {
  return typeof trust === 'boolean' ? String(trust) : typeof trust === 'string' ? trust : trust.join(',');
}

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;

const SPEC = {
  database: {
    url: {
      description: 'Which database: `sqlite:<file>` (embedded, one machine) or `postgres://user:pass@host:5432/db?schema=conveyor` (many machines).',
      ...text('a URL starting with sqlite: or postgres://', (value) => /^(sqlite:|postgres(ql)?:\/\/)./.test(value)),
      default: DEFAULT_DATABASE_URL,
      aliases: [{ env: 'DATABASE_URL', ...text('a URL starting with sqlite: or postgres://', (value) => /^(sqlite:|postgres(ql)?:\/\/)./.test(value)) }],
    },
  },
  worker: {
    concurrency: {
      description: 'Tasks one worker process runs at once.',
      ...integer(1, 1000),
      default: DEFAULT_WORKER_SETTINGS.concurrency,
    },
    poll_interval_ms: {
      description: 'Fallback poll: how often an idle worker looks for due tasks unprompted. Inserts and released or rescued tasks wake workers at once, scheduled tasks and retries wake them when due, so this only bounds a lost notification (without notifications a worker polls at least every second).',
      ...integer(10, HOUR_MS, ' (milliseconds)'),
      default: DEFAULT_WORKER_SETTINGS.poll_interval_ms,
      aliases: [{ key: 'POLL_INTERVAL_SECS', ...scaled('seconds', 1000, 10, HOUR_MS) }],
    },
    lease_ms: {
      description: 'How long a claim holds a running task; a worker that stops renewing it (crash, lost network) loses the task to another after this.',
      ...integer(500, DAY_MS, ' (milliseconds)'),
      default: DEFAULT_WORKER_SETTINGS.lease_ms,
    },
    heartbeat_ms: {
      description: 'How often a worker renews the leases it holds and picks up cancel requests (default: lease_ms / 3, at most 750 ms).',
      ...integer(50, HOUR_MS, ' (milliseconds)'),
      default: (s: SectionSoFar) => defaultHeartbeatMs(s.lease_ms as number),
    },
    shutdown_grace_ms: {
      description: 'On SIGTERM, how long running tasks may take to finish before they are aborted and handed back without spending an attempt.',
      ...integer(0, DAY_MS, ' (milliseconds)'),
      default: DEFAULT_WORKER_SETTINGS.shutdown_grace_ms,
    },
    task_types: {
      description: 'Task types this worker takes; empty for every type it knows.',
      ...taskTypeList,
      default: DEFAULT_WORKER_SETTINGS.task_types,
    },
    max_rescues: {
      description:
        'Rescues that send a task to the dead letter (a task that keeps killing its workers): leases lost while its handler ran. A task claimed ahead and lost before it started goes back free; a rescued task runs alone until it ends.',
      ...integer(0, 1000),
      default: DEFAULT_WORKER_SETTINGS.max_rescues,
    },
    maintenance_interval_ms: {
      description: 'How often the elected leader rescues expired leases, prunes old tasks and looks for new or changed schedules (default: lease_ms / 2, between 250 ms and 15 s); schedules it knows fire on time between rounds.',
      ...integer(50, HOUR_MS, ' (milliseconds)'),
      default: (s: SectionSoFar) => defaultMaintenanceIntervalMs(s.lease_ms as number),
    },
    retention_ms: {
      description: 'Finished tasks (completed, failed, cancelled) older than this are deleted by the pruner; 0 keeps them forever.',
      ...integer(0, 3650 * DAY_MS, ' (milliseconds; 0 keeps finished tasks forever)'),
      default: DEFAULT_WORKER_SETTINGS.retention_ms,
      aliases: [{ key: 'RETENTION_DAYS', ...scaled('days', DAY_MS, 0, 3650 * DAY_MS) }],
    },
    fair_share: {
      description: "Fair sharing of worker slots between owners: while another owner's tasks wait at the same priority, an owner holding more than this share of the running tasks (every worker counted) is claimed for only after the owners under it, and claims alternate between the waiting owners. Priority stays strict and no slot is left idle. 1 turns it off (claims in queue order, whoever owns the tasks).",
      ...decimal(0.01, 1),
      default: DEFAULT_WORKER_SETTINGS.fair_share,
    },
    event_loop_max_block_ms: {
      description: "The event-loop watchdog: a worker whose own thread stays blocked this long (a handler's busy loop) is killed, so its supervisor starts a fresh one, and the rescuer gives its tasks to others; 0 turns it off (default: two thirds of lease_ms, between 10 s and 30 s). Handlers that may block belong in a worker thread (`isolation: 'thread'`).",
      ...integer(0, DAY_MS, ' (milliseconds; 0 turns the watchdog off)'),
      default: (s: SectionSoFar) => defaultEventLoopMaxBlockMs(s.lease_ms as number),
    },
  },
  breaker: {
    failure_threshold: {
      description: 'Consecutive failures of a task type that open its circuit breaker (its tasks then wait instead of spending attempts).',
      ...integer(1, 1000),
      default: DEFAULT_BREAKER_SETTINGS.failure_threshold,
    },
    success_threshold: {
      description: 'Consecutive successes in half-open state that close the breaker again.',
      ...integer(1, 1000),
      default: DEFAULT_BREAKER_SETTINGS.success_threshold,
    },
    open_ms: {
      description: 'How long an open breaker pauses claims of its type before one trial (half-open).',
      ...integer(100, DAY_MS, ' (milliseconds)'),
      default: DEFAULT_BREAKER_SETTINGS.open_ms,
    },
  },
  log: {
    level: {
      description: 'Log level of the server and worker processes (JSON lines on stdout).',
      ...oneOf(LOG_LEVELS),
      default: 'info',
    },
  },
  server: {
    host: {
      description: 'Address the HTTP API listens on (0.0.0.0 for every interface).',
      ...text('a host name or IP address', (value) => /^[A-Za-z0-9.:_-]+$/.test(value)),
      default: API.server.host,
    },
    port: {
      description: 'Port the HTTP API listens on.',
      ...integer(0, 65535),
      default: API.server.port,
    },
    cors_origins: {
      description: 'Origins allowed to call the API from a browser; `*` for any; empty for none.',
      ...originList,
      default: Object.freeze([...API.server.corsOrigins]),
    },
    trust_proxy: {
      description: 'Whether to trust X-Forwarded-* headers: false, true (any proxy), or the proxies\' addresses/CIDRs.',
      ...text('false, true, or proxy addresses (comma-separated)', (value) => /^[A-Za-z0-9.:/, _-]+$/.test(value)),
      default: trustProxySetting(API.server.trustProxy),
    },
    body_limit_bytes: {
      description: 'Largest request body accepted (413 beyond), on every route but the batch insert.',
      ...integer(1024, 1024 * 1024 * 1024, ' (bytes)'),
      default: API.server.bodyLimitBytes,
    },
    batch_body_limit_bytes: {
      description: 'Largest body of POST /tasks/batch (up to 1,000 tasks; 413 beyond).',
      ...integer(1024, 1024 * 1024 * 1024, ' (bytes)'),
      default: API.server.batchBodyLimitBytes,
    },
    task_type_cache_ms: {
      description: 'How long the API reuses the task-type list read from the database to validate payloads.',
      ...integer(0, HOUR_MS, ' (milliseconds)'),
      default: API.taskTypeCacheMs,
    },
    task_create_per_minute: {
      description: 'Task-creating requests (POST /tasks, /tasks/batch, /schedules/:id/run) one user may make per minute (429 RATE_LIMITED beyond), whatever their role; the tasks themselves count against quotas.*. 0 for no limit.',
      ...integer(0, 10_000_000, ' (0 = unlimited)'),
      default: API.rateLimit.taskCreatePerMinute,
    },
    rate_limit_per_minute: {
      description: 'Requests one client address may make per minute across the API; 0 turns it off.',
      ...integer(0, 10_000_000, ' (0 = off)'),
      default: API.rateLimit.globalPerMinute,
    },
    worker_live_ms: {
      description: 'A worker whose last heartbeat is older than this counts as gone (API, dashboard, `conveyor doctor`).',
      ...integer(1000, DAY_MS, ' (milliseconds)'),
      default: API.workers.liveAfterMs,
    },
    ready_requires_worker: {
      description: 'GET /health/ready answers 503 while no worker is live.',
      ...bool(),
      default: API.health.readyRequiresWorker,
    },
    docs: {
      description: 'Serve the OpenAPI document and the interactive docs at /api-docs.',
      ...bool(),
      default: API.docs.enabled,
    },
    metrics: {
      description: 'Serve Prometheus metrics at /metrics (only with server.metrics_token set).',
      ...bool(),
      default: API.metrics.enabled,
    },
    metrics_token: {
      description: 'The bearer token GET /metrics requires (Authorization: Bearer <token>); empty: /metrics answers 404.',
      ...secret,
      default: '',
    },
  },
  auth: {
    session_ttl_ms: {
      description: 'How long a session token stays valid after login or its last refresh (POST /auth/refresh).',
      ...integer(60_000, 365 * DAY_MS, ' (milliseconds)'),
      default: API.auth.sessionTtlMs,
      aliases: [{ key: 'SESSION_DURATION_HOURS', ...scaled('hours', HOUR_MS, 60_000, 365 * DAY_MS) }],
    },
    session_max_lifetime_ms: {
      description: 'A session ends after this however often it is refreshed.',
      ...integer(60_000, 3650 * DAY_MS, ' (milliseconds)'),
      default: API.auth.sessionMaxLifetimeMs,
    },
    refresh_min_interval_ms: {
      description: 'A session may be refreshed at most this often (409 sooner).',
      ...integer(0, DAY_MS, ' (milliseconds)'),
      default: API.auth.refreshMinIntervalMs,
      aliases: [{ key: 'REFRESH_MIN_INTERVAL_MINUTES', ...scaled('minutes', 60_000, 0, DAY_MS) }],
    },
    initial_admin_password: {
      description: 'When set and no admin exists, the server creates one with this password at start.',
      ...secret,
      default: API.auth.initialAdminPassword ?? '', aliases: [{ env: 'STARTER__INITIAL_ADMIN_PASSWORD', ...secret }],
    },
    initial_admin_username: {
      description: 'Username of that first admin.',
      ...text('3-50 letters, digits, _ or -', (value) => /^[A-Za-z0-9_-]{3,50}$/.test(value)),
      default: API.auth.initialAdminUsername,
    },
    initial_admin_email: {
      description: 'Email of that first admin.',
      ...text('an email address', (value) => /^[^\s@]+@[^\s@]+$/.test(value)),
      default: API.auth.initialAdminEmail,
    },
    password_min_length: {
      description: 'Shortest password accepted (registration, password change and reset, `users create`; the same for `conveyor start` and `serve`).',
      ...integer(8, 128),
      default: API.auth.password.minLength,
    },
    password_max_length: {
      description: 'Longest password accepted (a bound on the hashing work one request can cause).',
      ...integer(8, 4096),
      default: API.auth.password.maxLength,
    },
    password_min_classes: {
      description: 'Character classes (lower, upper, digits, symbols) a password needs.',
      ...integer(1, 4, ' (of lower, upper, digits, symbols)'),
      default: API.auth.password.minClasses,
    },
    password_reject_common: {
      description: 'Refuse passwords from a list of the most common ones.',
      ...bool(),
      default: API.auth.password.rejectCommon,
    },
    login_max_failures: {
      description: 'Failed logins on one account from one client address before that address is throttled for it (the owner elsewhere is not).',
      ...integer(1, 1000, ' (per account and address)'),
      default: API.auth.loginThrottle.pairMaxFailures,
    },
    login_account_max_failures: {
      description: 'Failed logins on one account from all addresses before it is throttled for addresses it never logged in from (its owner\'s known addresses are not).',
      ...integer(1, 100_000, ' (per account)'),
      default: API.auth.loginThrottle.accountMaxFailures,
    },
    login_address_max_failures: {
      description: 'Failed logins from one client address before it is throttled.',
      ...integer(1, 100_000, ' (per client address)'),
      default: API.auth.loginThrottle.addressMaxFailures,
    },
    login_window_ms: {
      description: 'Failed logins older than this are forgotten by the throttle.',
      ...integer(1000, DAY_MS, ' (milliseconds)'),
      default: API.auth.loginThrottle.windowMs,
    },
    login_base_block_ms: {
      description: 'First throttle block after too many failed logins; each further failure doubles it.',
      ...integer(0, DAY_MS, ' (milliseconds)'),
      default: API.auth.loginThrottle.baseBlockMs,
    },
    login_max_block_ms: {
      description: 'Longest throttle block.',
      ...integer(0, DAY_MS, ' (milliseconds)'),
      default: API.auth.loginThrottle.maxBlockMs,
    },
    argon2_memory_kib: {
      description: 'argon2id memory cost of password hashing, in KiB.',
      ...integer(19_456, 4 * 1024 * 1024, ' (KiB; OWASP minimum 19456)'),
      default: API.auth.argon2.memoryKiB,
    },
    argon2_time_cost: {
      description: 'argon2id iterations of password hashing.',
      ...integer(2, 100),
      default: API.auth.argon2.timeCost,
    },
    argon2_parallelism: {
      description: 'argon2id parallelism of password hashing.',
      ...integer(1, 64),
      default: API.auth.argon2.parallelism,
    },
    register_per_minute: {
      description: 'Registrations one client address may make per minute; 0 for no limit.',
      ...integer(0, 1_000_000, ' (per client address; 0 = unlimited)'),
      default: API.auth.registerPerMinute,
    },
    registration: {
      description: 'Who may register through POST /auth/register: `open` (anyone), `invite` (holders of an invitation from a moderator or admin) or `closed` (accounts come from `conveyor users create`). `conveyor start` uses `open` when the server listens on loopback and this is not set.',
      ...oneOf(REGISTRATION_POLICIES),
      default: API.auth.registration,
    },
    invitation_ttl_ms: {
      description: 'How long an invitation (POST /users/invitations, `conveyor users invite`) can be used.',
      ...integer(60_000, 365 * DAY_MS, ' (milliseconds)'),
      default: API.auth.invitationTtlMs,
    },
    password_reset_ttl_ms: {
      description: 'How long an admin-issued password reset (POST /users/:id/password-reset, `conveyor users reset-password`) can be used.',
      ...integer(60_000, 30 * DAY_MS, ' (milliseconds)'),
      default: API.auth.passwordResetTtlMs,
    },
  },
  quotas: {
    user_tasks_per_minute: {
      description: 'A user (role `user`): tasks created in any 60 seconds, counted in tasks on every path (POST /tasks, each task of a batch, run-now, schedule firings); 429 beyond. 0: no limit.',
      ...integer(0, 10_000_000, ' (0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.user.tasksPerMinute,
    },
    user_waiting_tasks: {
      description: 'A user (role `user`): tasks pending, scheduled or retrying at once; 429 beyond. 0: no limit.',
      ...integer(0, 1_000_000_000, ' (0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.user.waitingTasks,
    },
    user_payload_bytes: {
      description: 'A user (role `user`): payload bytes (as JSON) of all their stored tasks, finished ones too until pruned or deleted; 429 beyond. 0: no limit.',
      ...integer(0, Number.MAX_SAFE_INTEGER, ' bytes (0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.user.payloadBytes,
    },
    user_schedule_min_interval_ms: {
      description: 'A user (role `user`): the shortest time a schedule may leave between two firings (a cron of `* * * * * *` fires every second); 400 beyond. 0: no limit.',
      ...integer(0, 366 * DAY_MS, ' (milliseconds, 0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.user.scheduleMinIntervalMs,
    },
    user_email_recipients_per_day: {
      description: 'A user (role `user`): email recipients (to, cc and bcc) their email tasks may address in any 24 hours, counted at creation and checked again when sending; 429 at creation, a failed task at sending. 0: no limit.',
      ...integer(0, 10_000_000, ' (0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.user.emailRecipientsPerDay,
    },
    user_email_domains: {
      description: 'A user (role `user`): the only domains their email tasks may send to (`example.com` allows `sub.example.com` too); 422 at creation, a failed task at sending. Empty: any domain.',
      ...list('a comma-separated list of domain names', (domain) => /^(\*\.)?[A-Za-z0-9.-]+$/.test(domain)),
      default: DEFAULT_QUOTA_CONFIG.user.emailDomains,
    },
    moderator_tasks_per_minute: {
      description: 'A moderator: tasks created in any 60 seconds, counted in tasks on every path (POST /tasks, each task of a batch, run-now, schedule firings); 429 beyond. 0: no limit.',
      ...integer(0, 10_000_000, ' (0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.moderator.tasksPerMinute,
    },
    moderator_waiting_tasks: {
      description: 'A moderator: tasks pending, scheduled or retrying at once; 429 beyond. 0: no limit.',
      ...integer(0, 1_000_000_000, ' (0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.moderator.waitingTasks,
    },
    moderator_payload_bytes: {
      description: 'A moderator: payload bytes (as JSON) of all their stored tasks, finished ones too until pruned or deleted; 429 beyond. 0: no limit.',
      ...integer(0, Number.MAX_SAFE_INTEGER, ' bytes (0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.moderator.payloadBytes,
    },
    moderator_schedule_min_interval_ms: {
      description: 'A moderator: the shortest time a schedule may leave between two firings (a cron of `* * * * * *` fires every second); 400 beyond. 0: no limit.',
      ...integer(0, 366 * DAY_MS, ' (milliseconds, 0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.moderator.scheduleMinIntervalMs,
    },
    moderator_email_recipients_per_day: {
      description: 'A moderator: email recipients (to, cc and bcc) their email tasks may address in any 24 hours, counted at creation and checked again when sending; 429 at creation, a failed task at sending. 0: no limit.',
      ...integer(0, 10_000_000, ' (0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.moderator.emailRecipientsPerDay,
    },
    moderator_email_domains: {
      description: 'A moderator: the only domains their email tasks may send to (`example.com` allows `sub.example.com` too); 422 at creation, a failed task at sending. Empty: any domain.',
      ...list('a comma-separated list of domain names', (domain) => /^(\*\.)?[A-Za-z0-9.-]+$/.test(domain)),
      default: DEFAULT_QUOTA_CONFIG.moderator.emailDomains,
    },
    admin_tasks_per_minute: {
      description: 'An admin (0: exempt, the default): tasks created in any 60 seconds, counted in tasks on every path (POST /tasks, each task of a batch, run-now, schedule firings); 429 beyond. 0: no limit.',
      ...integer(0, 10_000_000, ' (0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.admin.tasksPerMinute,
    },
    admin_waiting_tasks: {
      description: 'An admin (0: exempt, the default): tasks pending, scheduled or retrying at once; 429 beyond. 0: no limit.',
      ...integer(0, 1_000_000_000, ' (0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.admin.waitingTasks,
    },
    admin_payload_bytes: {
      description: 'An admin (0: exempt, the default): payload bytes (as JSON) of all their stored tasks, finished ones too until pruned or deleted; 429 beyond. 0: no limit.',
      ...integer(0, Number.MAX_SAFE_INTEGER, ' bytes (0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.admin.payloadBytes,
    },
    admin_schedule_min_interval_ms: {
      description: 'An admin (0: exempt, the default): the shortest time a schedule may leave between two firings (a cron of `* * * * * *` fires every second); 400 beyond. 0: no limit.',
      ...integer(0, 366 * DAY_MS, ' (milliseconds, 0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.admin.scheduleMinIntervalMs,
    },
    admin_email_recipients_per_day: {
      description: 'An admin (0: exempt, the default): email recipients (to, cc and bcc) their email tasks may address in any 24 hours, counted at creation and checked again when sending; 429 at creation, a failed task at sending. 0: no limit.',
      ...integer(0, 10_000_000, ' (0 = unlimited)'),
      default: DEFAULT_QUOTA_CONFIG.admin.emailRecipientsPerDay,
    },
    admin_email_domains: {
      description: 'An admin (0: exempt, the default): the only domains their email tasks may send to (`example.com` allows `sub.example.com` too); 422 at creation, a failed task at sending. Empty: any domain.',
      ...list('a comma-separated list of domain names', (domain) => /^(\*\.)?[A-Za-z0-9.-]+$/.test(domain)),
      default: DEFAULT_QUOTA_CONFIG.admin.emailDomains,
    },
  },
  data: {
    dir: {
      description: 'Folder for local files: the default SQLite database\'s neighbours, the email outbox, uploads, report artifacts, `conveyor start` logs.',
      ...text('a folder path', (value) => value !== ''),
      default: './data',
    },
  },
  email: {
    smtp_url: {
      description: 'SMTP server for email tasks (`smtp://user:pass@host:587`); empty writes .eml files to the outbox instead.',
      ...text('an smtp:// or smtps:// URL (empty writes .eml files to the outbox)', (value) => /^smtps?:\/\/./.test(value)),
      default: '',
    },
    from: {
      description: 'Sender address of email tasks.',
      ...text('an email address such as conveyor@example.com', (value) => /^[^\s@<>]+@[^\s@<>]+$/.test(value)),
      default: 'conveyor@localhost',
    },
    allow_plaintext_auth: {
      description: 'Send SMTP credentials over a connection without TLS (no STARTTLS offered, or a plain smtp:// URL with ?ignoreTLS). Off: an smtp:// URL with a user and password requires STARTTLS, and a server without it fails the task instead of receiving the password in clear text.',
      ...bool(),
      default: false,
    },
    outbox_dir: {
      description: 'Where email tasks write .eml files when no SMTP server is set (empty: <data.dir>/outbox).',
      ...anyText('a folder path (empty: <data.dir>/outbox)'),
      default: '',
    },
  },
  webhook: {
    secret: {
      description: 'Key that signs webhook requests (webhook-signature header); empty sends them unsigned.',
      ...secret,
      default: '',
    },
    allow_hosts: {
      description: 'Hosts webhook tasks may call although they resolve to private addresses (the SSRF guard refuses those otherwise).',
      ...list('a comma-separated list of host names, *.suffix wildcards or IP addresses', (host) => /^[A-Za-z0-9*.:_\[\]-]+$/.test(host)),
      default: Object.freeze([]),
    },
    timeout_ms: {
      description: 'Time limit of one webhook request.',
      ...integer(100, 10 * 60 * 1000, ' (milliseconds)'),
      default: 15_000,
    },
  },
  file_cleanup: {
    roots: {
      description: 'Folders file-cleanup tasks may delete in; paths outside are refused. Relative ones, like a relative file_path, are resolved against the working directory (empty: <data.dir>/uploads, <data.dir>/reports and /tmp/uploads, created if missing).',
      ...list('a comma-separated list of folder paths (empty: <data.dir>/uploads, <data.dir>/reports and /tmp/uploads)', (path) => path !== ''),
      default: Object.freeze([]),
    },
  },
  reports: {
    artifacts_dir: {
      description: 'Where report tasks write their files (empty: <data.dir>/artifacts).',
      ...anyText('a folder path (empty: <data.dir>/artifacts)'),
      default: '',
    },
  },
  tasks: {
    modules: {
      description: 'Your own task types: .ts or .js files exporting defineTask() results, loaded by the server and the workers.',
      ...list('a comma-separated list of .ts or .js files that export task definitions', (path) => path !== ''),
      default: Object.freeze([]),
    },
  },
} satisfies SpecShape;

/** Checks across settings of one section; throw with `invalid(...)`. */
const CHECKS: { [S in keyof Config]?: (section: Config[S], env: (key: string) => string) => void } = {
  // The engine's own parser says precisely what is wrong with a URL (and never prints its password).
  database: (database) => void parseDatabaseUrl(database.url),
  worker: (worker, env) => {
    if (worker.heartbeat_ms * 2 > worker.lease_ms) {
      throw invalid('worker.heartbeat_ms', env('heartbeat_ms'), String(worker.heartbeat_ms), `at most half of worker.lease_ms (${worker.lease_ms}), so a lease survives a missed renewal`);
    }
  },
};

const PREFIXES = ['CONVEYOR', 'STARTER'] as const;

/** Where a setting's value came from, as `conveyor config` shows it. */
export type SettingSource = { kind: 'default' } | { kind: 'env'; name: string } | { kind: 'file'; path: string; key: string };

export interface ResolvedConfig {
  config: Config;
  /** `worker.concurrency` -> where its value came from. */
  sources: Readonly<Record<string, SettingSource>>;
  /** The config file read, if any. */
  file: string | null;
}

/** Resolves the configuration once, from defaults, the config file and the environment; throws ConveyorError CONFIG naming the setting. */
export function loadConfig(env: Env = process.env): Config {
  return resolveConfig(env).config;
}

/**
 * The configuration and where each value came from. Precedence: the environment, then the config
 * file (CONVEYOR_CONFIG, `--config`, or ./conveyor.config.json), then the defaults.
 */
export function resolveConfig(env: Env = process.env, options: { cwd?: string } = {}): ResolvedConfig {
  rejectUnknownNames(env);
  const filePath = findConfigFile(env, options.cwd ?? process.cwd());
  const file = filePath === null ? null : readConfigFile(filePath);
  if (file) rejectUnknownFileKeys(file);
  const config: Record<string, unknown> = {};
  const sources: Record<string, SettingSource> = {};
  for (const [sectionName, settings] of Object.entries(SPEC) as [string, Record<string, Setting<unknown>>][]) {
    const section: Record<string, unknown> = {};
    for (const [key, setting] of Object.entries(settings)) {
      const resolved = resolveSetting(env, file, sectionName, key, setting, section);
      section[key] = resolved.value;
      sources[`${sectionName}.${key}`] = resolved.source;
    }
    const check = CHECKS[sectionName as keyof Config] as ((s: unknown, env: (key: string) => string) => void) | undefined;
    check?.(section, (key) => describeSource(sources[`${sectionName}.${key}`], `${sectionName}.${key}`) ?? `CONVEYOR__${sectionName.toUpperCase()}__${key.toUpperCase()}`);
    config[sectionName] = Object.freeze(section);
  }
  return { config: Object.freeze(config) as Config, sources: Object.freeze(sources), file: filePath };
}

/** The environment name or file that set a value, for error messages; null for a default. */
function describeSource(source: SettingSource | undefined, field: string): string | null {
  if (!source || source.kind === 'default') return null;
  return source.kind === 'env' ? source.name : `${field} in ${source.path}`;
}

function resolveSetting(
  env: Env,
  file: ConfigFileContent | null,
  sectionName: string,
  key: string,
  setting: Setting<unknown>,
  section: Record<string, unknown>,
): { value: unknown; source: SettingSource } {
  const field = `${sectionName}.${key}`;
  const candidates: { name: string; allowed: string; parse: (raw: string) => unknown }[] = [];
  for (const prefix of PREFIXES) {
    candidates.push({ name: `${prefix}__${sectionName.toUpperCase()}__${key.toUpperCase()}`, allowed: setting.allowed, parse: setting.parse });
    for (const alias of setting.aliases ?? []) {
      if (alias.key) candidates.push({ name: `${prefix}__${sectionName.toUpperCase()}__${alias.key}`, allowed: alias.allowed, parse: alias.parse });
    }
  }
  for (const alias of setting.aliases ?? []) {
    if (alias.env) candidates.push({ name: alias.env, allowed: alias.allowed, parse: alias.parse });
  }
  for (const candidate of candidates) {
    const raw = env[candidate.name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = candidate.parse(raw);
    if (value === undefined) throw invalid(field, candidate.name, raw, candidate.allowed);
    return { value, source: { kind: 'env', name: candidate.name } };
  }
  // The file: under the setting's own key, or an alias key (poll_interval_secs), in lower case.
  const fileSection = file?.sections.get(sectionName);
  if (file && fileSection) {
    const fileCandidates = [{ key, allowed: setting.allowed, parse: setting.parse }];
    for (const alias of setting.aliases ?? []) if (alias.key) fileCandidates.push({ key: alias.key.toLowerCase(), allowed: alias.allowed, parse: alias.parse });
    for (const candidate of fileCandidates) {
      const entry = fileSection.get(candidate.key);
      if (entry === undefined || entry.raw.trim() === '') continue;
      const value = candidate.parse(entry.raw);
      const where = `${sectionName}.${entry.key}`;
      if (value === undefined) throw invalid(field, `${where} in ${file.path}`, entry.raw, candidate.allowed, { file: file.path });
      return { value, source: { kind: 'file', path: file.path, key: where } };
    }
  }
  const value = typeof setting.default === 'function' ? (setting.default as (s: Record<string, unknown>) => unknown)(section) : setting.default;
  return { value, source: { kind: 'default' } };
}

/** A misspelt key in the file would otherwise be ignored without a word. */
function rejectUnknownFileKeys(file: ConfigFileContent): void {
  const specs: SpecShape = SPEC;
  for (const [sectionName, values] of file.sections) {
    const settings = specs[sectionName];
    if (!settings) throw fileError(file.path, `has a section "${sectionName}" that does not exist; sections are ${Object.keys(SPEC).join(', ')}`, sectionName);
    for (const { key } of values.values()) {
      const lower = key.toLowerCase();
      const known = Object.entries(settings).some(([k, s]) => k === lower || (s.aliases ?? []).some((a) => a.key?.toLowerCase() === lower));
      if (!known) throw fileError(file.path, `has "${sectionName}.${key}", which is not a setting; ${sectionName} settings are ${Object.keys(settings).join(', ')}`, `${sectionName}.${key}`);
    }
  }
}

/** One setting as documentation shows it (`conveyor config --defaults`). */
export interface SettingInfo {
  field: string;
  section: string;
  key: string;
  /** Every environment name that sets it, in precedence order. */
  envNames: string[];
  /** Names that take another unit (POLL_INTERVAL_SECS), with what they allow. */
  envAllowed: Record<string, string>;
  /** Keys accepted in the config file's section. */
  fileKeys: string[];
  allowed: string;
  description: string;
  default: unknown;
  /** The default is computed from other settings of the section (shown with their defaults). */
  derived: boolean;
}

/** Every setting, its names, what it allows and its default; from the same table that validates. */
export function describeSettings(): SettingInfo[] {
  const result: SettingInfo[] = [];
  for (const [sectionName, settings] of Object.entries(SPEC) as [string, Record<string, Setting<unknown>>][]) {
    const section: Record<string, unknown> = {};
    for (const [key, setting] of Object.entries(settings)) {
      const envNames: string[] = [];
      const envAllowed: Record<string, string> = {};
      const fileKeys = [key];
      for (const prefix of PREFIXES) {
        envNames.push(`${prefix}__${sectionName.toUpperCase()}__${key.toUpperCase()}`);
        for (const alias of setting.aliases ?? []) {
          if (!alias.key) continue;
          const name = `${prefix}__${sectionName.toUpperCase()}__${alias.key}`;
          envNames.push(name);
          if (alias.allowed !== setting.allowed) envAllowed[name] = alias.allowed;
        }
      }
      for (const alias of setting.aliases ?? []) {
        if (alias.env) envNames.push(alias.env);
        if (alias.key) fileKeys.push(alias.key.toLowerCase());
      }
      const derived = typeof setting.default === 'function';
      const value = derived ? (setting.default as (s: Record<string, unknown>) => unknown)(section) : setting.default;
      section[key] = value;
      result.push({ field: `${sectionName}.${key}`, section: sectionName, key, envNames, envAllowed, fileKeys, allowed: setting.allowed, description: setting.description, default: value, derived });
    }
  }
  return result;
}

/** A misspelt CONVEYOR__ name would otherwise be ignored without a word; STARTER__ names we lack are the guide's, ignored. */
function rejectUnknownNames(env: Env): void {
  for (const name of Object.keys(env)) {
    const match = /^CONVEYOR__([A-Z0-9_]+?)__([A-Z0-9_]+)$/.exec(name);
    if (!name.startsWith('CONVEYOR__')) continue;
    if (!match) throw unknownName(name, `is not of the form CONVEYOR__SECTION__KEY; sections are ${Object.keys(SPEC).join(', ')}`);
    const sectionName = match[1]!.toLowerCase();
    const key = match[2]!;
    const settings = (SPEC as SpecShape)[sectionName];
    if (!settings) throw unknownName(name, `names no section; sections are ${Object.keys(SPEC).join(', ')}`);
    const known = Object.entries(settings).some(([k, s]) => k.toUpperCase() === key || (s.aliases ?? []).some((a) => a.key === key));
    if (!known) throw unknownName(name, `is not a setting; ${sectionName} settings are ${Object.keys(settings).join(', ')}`);
  }
}

function invalid(field: string, envName: string, raw: string, allowed: string, extra: { file?: string } = {}): ConveyorError {
  // A file names the setting itself ("worker.concurrency in ./conveyor.config.json"); no need to repeat it.
  const where = envName.startsWith(`${field} `) || envName.startsWith(`${field.split('.')[0]}.`) ? envName : `${envName} (${field})`;
  return new ConveyorError(ERROR_CODES.CONFIG, `${where} must be ${allowed}; got ${JSON.stringify(raw)}`, {
    field,
    details: extra.file ? { file: extra.file, allowed } : { env: envName, allowed },
  });
}

function unknownName(name: string, problem: string): ConveyorError {
  return new ConveyorError(ERROR_CODES.CONFIG, `${name} ${problem}`, { field: name, details: { env: name } });
}

/** The `quotas.*` settings as the API and the workers take them. */
export function quotaConfigFrom(config: Config): QuotaConfig {
  const q = config.quotas;
  const role = (r: 'user' | 'moderator' | 'admin') => ({
    tasksPerMinute: q[`${r}_tasks_per_minute`],
    waitingTasks: q[`${r}_waiting_tasks`],
    payloadBytes: q[`${r}_payload_bytes`],
    scheduleMinIntervalMs: q[`${r}_schedule_min_interval_ms`],
    emailRecipientsPerDay: q[`${r}_email_recipients_per_day`],
    emailDomains: q[`${r}_email_domains`],
  });
  return { user: role('user'), moderator: role('moderator'), admin: role('admin') };
}
