/**
 * Example values for the OpenAPI document (shown by swagger-ui, checked against their schemas by
 * `redocly lint`): one email task through its life, and the account that created it.
 */
const TASK_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const USER_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

export const EMAIL_PAYLOAD_EXAMPLE = { to: 'user@example.com', subject: 'Welcome', body: 'Thanks for signing up.' };

export const CREATE_TASK_EXAMPLE = {
  task_type: 'email',
  payload: EMAIL_PAYLOAD_EXAMPLE,
  priority: 'high',
  max_attempts: 5,
  retry_strategy: { type: 'exponential', base_delay_ms: 1000, multiplier: 2, max_delay_ms: 300000 },
  metadata: { campaign: 'onboarding' },
};

export const TASK_SUMMARY_EXAMPLE = {
  id: TASK_ID,
  task_type: 'email',
  status: 'completed',
  priority: 'high',
  max_attempts: 5,
  current_attempt: 1,
  last_error: null,
  created_at: '2026-01-01T12:00:00.000Z',
  updated_at: '2026-01-01T12:00:01.250Z',
  scheduled_at: null,
  run_at: '2026-01-01T12:00:00.000Z',
  started_at: '2026-01-01T12:00:00.100Z',
  completed_at: '2026-01-01T12:00:01.250Z',
  cancel_requested_at: null,
  created_by: USER_ID,
  metadata: { campaign: 'onboarding' },
  progress: null,
};

export const TASK_DETAIL_EXAMPLE = {
  ...TASK_SUMMARY_EXAMPLE,
  payload: EMAIL_PAYLOAD_EXAMPLE,
  output: { message_id: '<0f8fad5b-d9cb-469f-a165-70867728950e@conveyor>', accepted: ['user@example.com'] },
  retry_strategy: { type: 'exponential', base_delay_ms: 1000, multiplier: 2, max_delay_ms: 300000 },
  idempotency_key: null,
  worker_id: null,
  lease_expires_at: null,
  rescue_count: 0,
  attempts: [
    { attempt: 1, worker_id: 'worker-host1-4242', started_at: '2026-01-01T12:00:00.100Z', finished_at: '2026-01-01T12:00:01.250Z', outcome: 'completed', error: null },
  ],
  handling: { state: 'handled', live_workers: 2 },
};

export const USER_PROFILE_EXAMPLE = {
  id: USER_ID,
  username: 'ada',
  email: 'ada@example.com',
  role: 'user',
  is_active: true,
  created_at: '2026-01-01T09:00:00.000Z',
  last_login_at: '2026-01-01T11:59:00.000Z',
};

export const REGISTER_EXAMPLE = { username: 'ada', email: 'ada@example.com', password: 'Correct-Horse-42' };
export const LOGIN_EXAMPLE = { username_or_email: 'ada', password: 'Correct-Horse-42' };
export const SESSION_TOKEN_EXAMPLE = 'Yk3pQ9vTz8Lw2mN5bR7cX1aD4fG6hJ0sE9uI3oP5qWe';

export const CREATE_SCHEDULE_EXAMPLE = {
  name: 'nightly-report',
  cron: '0 3 * * *',
  timezone: 'Europe/Berlin',
  task_type: 'report_generation',
  payload: { report_type: 'task_activity', start_date: '2026-01-01', end_date: '2026-01-31', format: 'html' },
  priority: 'low',
};

export const TASK_STATS_EXAMPLE = {
  scope: 'own',
  total: 42,
  pending: 3,
  scheduled: 1,
  running: 2,
  retrying: 1,
  completed: 30,
  failed: 4,
  cancelled: 1,
  by_type: { email: { pending: 3, running: 2, completed: 25, failed: 1 }, webhook: { scheduled: 1, retrying: 1, completed: 5, failed: 3, cancelled: 1 } },
  by_priority: { high: { running: 2, completed: 10 }, normal: { pending: 3, scheduled: 1, retrying: 1, completed: 20, failed: 4, cancelled: 1 } },
  oldest_ready_age_ms: 1200,
  completed_last_minute: 5,
  completed_last_hour: 30,
  failed_last_minute: 0,
  failed_last_hour: 2,
  live_workers: 2,
  unhandled_types: [{ task_type: 'legacy_import', waiting: 12 }],
};

export const TASK_TYPE_EXAMPLE = {
  task_type: 'email',
  description: 'Send an email',
  payload_schema: {
    type: 'object',
    properties: { to: { type: 'string', format: 'email' }, subject: { type: 'string' }, body: { type: 'string' } },
    required: ['to', 'subject', 'body'],
  },
  examples: [EMAIL_PAYLOAD_EXAMPLE],
  timeout_ms: 30000,
  registered_at: '2026-01-01T08:00:00.000Z',
  updated_at: '2026-01-01T08:00:00.000Z',
  last_seen_at: '2026-01-01T12:00:00.000Z',
  live_workers: 2,
  has_live_worker: true,
  paused: false,
  paused_at: null,
  paused_reason: null,
  max_running: null,
  running: 1,
};

export const WORKER_EXAMPLE = {
  id: 'worker-host1-4242',
  host: 'host1',
  pid: 4242,
  concurrency: 10,
  running: 3,
  task_types: ['email', 'webhook', 'report_generation'],
  started_at: '2026-01-01T08:00:00.000Z',
  last_heartbeat_at: '2026-01-01T12:00:00.000Z',
  live: true,
};

export const BREAKER_EXAMPLE = {
  task_type: 'webhook',
  scope: 'api.example.com',
  label: 'webhook @ api.example.com',
  state: 'open',
  consecutive_failures: 5,
  consecutive_successes: 0,
  opened_at: '2026-01-01T11:59:00.000Z',
  reopens_at: '2026-01-01T12:00:00.000Z',
  updated_at: '2026-01-01T11:59:00.000Z',
};

export const SCHEDULE_EXAMPLE = {
  id: '3b241101-e2bb-4255-8caf-4136c566a962',
  ...CREATE_SCHEDULE_EXAMPLE,
  max_attempts: null,
  retry_strategy: null,
  metadata: {},
  enabled: true,
  next_run_at: '2026-01-02T02:00:00.000Z',
  last_run_at: '2026-01-01T02:00:00.000Z',
  last_task_id: TASK_ID,
  last_skipped_at: null,
  last_skip_reason: null,
  created_by: USER_ID,
  created_at: '2025-12-01T09:00:00.000Z',
  updated_at: '2025-12-01T09:00:00.000Z',
  upcoming: ['2026-01-02T02:00:00.000Z', '2026-01-03T02:00:00.000Z', '2026-01-04T02:00:00.000Z', '2026-01-05T02:00:00.000Z', '2026-01-06T02:00:00.000Z'],
};
