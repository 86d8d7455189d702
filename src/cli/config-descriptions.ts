import type { Config } from './config.ts';

/**
 * One sentence per setting, for `conveyor config --defaults` and docs/configuration.md. Typed over
 * Config, so a new setting without a description does not compile.
 */
export const SETTING_DESCRIPTIONS: { readonly [S in keyof Config]: { readonly [K in keyof Config[S]]-?: string } } = {
  database: {
    url: 'Which database: `sqlite:<file>` (embedded, one machine) or `postgres://user:pass@host:5432/db?schema=conveyor` (many machines).',
  },
  worker: {
    concurrency: 'Tasks one worker process runs at once.',
    poll_interval_ms: 'Fallback poll: how often an idle worker looks for due tasks unprompted. Inserts and released or rescued tasks wake workers at once, scheduled tasks and retries wake them when due, so this only bounds a lost notification (without notifications a worker polls at least every second).',
    lease_ms: 'How long a claim holds a running task; a worker that stops renewing it (crash, lost network) loses the task to another after this.',
    heartbeat_ms: 'How often a worker renews the leases it holds and picks up cancel requests (default: lease_ms / 3, at most 750 ms).',
    shutdown_grace_ms: 'On SIGTERM, how long running tasks may take to finish before they are aborted and handed back without spending an attempt.',
    task_types: 'Task types this worker takes; empty for every type it knows.',
    max_rescues: 'Lease expiries a task survives before it goes to the dead letter (a task that keeps killing its workers).',
    maintenance_interval_ms: 'How often the elected leader rescues expired leases, prunes old tasks and looks for new or changed schedules (default: lease_ms / 2, between 250 ms and 15 s); schedules it knows fire on time between rounds.',
    retention_ms: 'Finished tasks (completed, failed, cancelled) older than this are deleted by the pruner; 0 keeps them forever.',
  },
  breaker: {
    failure_threshold: 'Consecutive failures of a task type that open its circuit breaker (its tasks then wait instead of spending attempts).',
    success_threshold: 'Consecutive successes in half-open state that close the breaker again.',
    open_ms: 'How long an open breaker pauses claims of its type before one trial (half-open).',
  },
  log: {
    level: 'Log level of the server and worker processes (JSON lines on stdout).',
  },
  server: {
    host: 'Address the HTTP API listens on (0.0.0.0 for every interface).',
    port: 'Port the HTTP API listens on.',
    cors_origins: 'Origins allowed to call the API from a browser; `*` for any; empty for none.',
    trust_proxy: 'Whether to trust X-Forwarded-* headers: false, true (any proxy), or the proxies\' addresses/CIDRs.',
    body_limit_bytes: 'Largest request body accepted (413 beyond).',
    task_create_per_minute: 'Tasks one user may create per minute (429 beyond); 0 for no limit.',
    rate_limit_per_minute: 'Requests one client address may make per minute across the API; 0 turns it off.',
    worker_live_ms: 'A worker whose last heartbeat is older than this counts as gone (API, dashboard, `conveyor doctor`).',
    ready_requires_worker: 'GET /health/ready answers 503 while no worker is live.',
    docs: 'Serve the OpenAPI document and the interactive docs at /api-docs.',
    metrics: 'Serve Prometheus metrics at /metrics.',
  },
  auth: {
    session_ttl_ms: 'How long a session token stays valid after login or its last refresh (POST /auth/refresh).',
    session_max_lifetime_ms: 'A session ends after this however often it is refreshed.',
    refresh_min_interval_ms: 'A session may be refreshed at most this often (409 sooner).',
    initial_admin_password: 'When set and no admin exists, the server creates one with this password at start.',
    initial_admin_username: 'Username of that first admin.',
    initial_admin_email: 'Email of that first admin.',
    password_min_length: 'Shortest password accepted at registration.',
    password_min_classes: 'Character classes (lower, upper, digits, symbols) a password needs (`conveyor start` relaxes this to 2).',
    password_reject_common: 'Refuse passwords from a list of the most common ones (`conveyor start` turns this off).',
    login_max_failures: 'Failed logins on one account before it is throttled.',
    login_address_max_failures: 'Failed logins from one client address before it is throttled.',
    register_per_minute: 'Registrations one client address may make per minute; 0 for no limit.',
  },
  data: {
    dir: 'Folder for local files: the default SQLite database\'s neighbours, the email outbox, uploads, report artifacts, `conveyor start` logs.',
  },
  email: {
    smtp_url: 'SMTP server for email tasks (`smtp://user:pass@host:587`); empty writes .eml files to the outbox instead.',
    from: 'Sender address of email tasks.',
    outbox_dir: 'Where email tasks write .eml files when no SMTP server is set (empty: <data.dir>/outbox).',
  },
  webhook: {
    secret: 'Key that signs webhook requests (webhook-signature header); empty sends them unsigned.',
    allow_hosts: 'Hosts webhook tasks may call although they resolve to private addresses (the SSRF guard refuses those otherwise).',
    timeout_ms: 'Time limit of one webhook request.',
  },
  file_cleanup: {
    roots: 'Folders file-cleanup tasks may delete in; paths outside are refused. Relative ones, like a relative file_path, are resolved against the working directory (empty: <data.dir>/uploads, <data.dir>/reports and /tmp/uploads, created if missing).',
  },
  reports: {
    artifacts_dir: 'Where report tasks write their files (empty: <data.dir>/artifacts).',
  },
  tasks: {
    modules: 'Your own task types: .ts or .js files exporting defineTask() results, loaded by the server and the workers.',
  },
};
