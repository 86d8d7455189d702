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
