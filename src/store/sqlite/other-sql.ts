/** SQL for the tables other than `tasks`: leaders, circuit breakers, task types, workers, users, sessions. */

/** Takes the leadership if it is free or expired, or renews it for its holder; otherwise changes nothing. */
export const LEADER_ELECT = `
  INSERT INTO leaders (name, leader_id, expires_at) VALUES (@name, @leaderId, @expiresAt)
  ON CONFLICT (name) DO UPDATE SET leader_id = excluded.leader_id, expires_at = excluded.expires_at
   WHERE leaders.expires_at <= @now OR leaders.leader_id = excluded.leader_id`;
export const LEADER_GET = `SELECT leader_id FROM leaders WHERE name = ?`;
export const LEADER_RESIGN = `DELETE FROM leaders WHERE name = @name AND leader_id = @leaderId`;

export const BREAKER_GET = `SELECT * FROM circuit_breakers WHERE task_type = ?`;
export const BREAKER_LIST = `SELECT * FROM circuit_breakers ORDER BY task_type`;
/** An admin's reset: closed with its counters cleared; when it last opened stays on record. */
export const BREAKER_RESET = `
  INSERT INTO circuit_breakers (task_type, state, updated_at) VALUES (@taskType, 'closed', @now)
  ON CONFLICT (task_type) DO UPDATE SET
    state = 'closed', consecutive_failures = 0, consecutive_successes = 0, reopens_at = NULL, updated_at = excluded.updated_at
  RETURNING *`;
export const BREAKER_UPSERT = `
  INSERT INTO circuit_breakers (task_type, state, consecutive_failures, consecutive_successes, opened_at, reopens_at, updated_at)
  VALUES (@task_type, @state, @consecutive_failures, @consecutive_successes, @opened_at, @reopens_at, @updated_at)
  ON CONFLICT (task_type) DO UPDATE SET
    state = excluded.state, consecutive_failures = excluded.consecutive_failures,
    consecutive_successes = excluded.consecutive_successes, opened_at = excluded.opened_at,
    reopens_at = excluded.reopens_at, updated_at = excluded.updated_at`;

export const TYPE_LIMIT_SET = `
  INSERT INTO task_type_limits (task_type, max_running, updated_at, updated_by) VALUES (@taskType, @maxRunning, @now, @by)
  ON CONFLICT (task_type) DO UPDATE SET max_running = excluded.max_running, updated_at = excluded.updated_at, updated_by = excluded.updated_by
  RETURNING *`;
export const TYPE_LIMIT_DELETE = `DELETE FROM task_type_limits WHERE task_type = ?`;
export const TYPE_RUNNING_COUNTS = `SELECT task_type, COUNT(*) AS running FROM tasks WHERE status = 'running' GROUP BY task_type`;
export const TYPE_LIMIT_LIST = `SELECT * FROM task_type_limits ORDER BY task_type`;

/** Pausing again keeps when and by whom it was first paused; the reason may change. */
export const TYPE_PAUSE = `
  INSERT INTO task_type_pauses (task_type, paused_at, paused_by, reason) VALUES (@taskType, @now, @pausedBy, @reason)
  ON CONFLICT (task_type) DO UPDATE SET reason = coalesce(excluded.reason, task_type_pauses.reason)
  RETURNING *`;
export const TYPE_RESUME = `DELETE FROM task_type_pauses WHERE task_type = ?`;
export const TYPE_PAUSE_LIST = `SELECT * FROM task_type_pauses ORDER BY task_type`;

/** created_at is kept; updated_at moves only when the definition changed; last_seen_at always. */
export const TYPE_UPSERT = `
  INSERT INTO task_types (name, description, payload_schema, examples, timeout_ms, created_at, updated_at, last_seen_at)
  VALUES (@name, @description, @payloadSchema, @examples, @timeoutMs, @now, @now, @now)
  ON CONFLICT (name) DO UPDATE SET
    updated_at = CASE
      WHEN task_types.description IS NOT excluded.description OR task_types.payload_schema IS NOT excluded.payload_schema
        OR task_types.examples IS NOT excluded.examples OR task_types.timeout_ms IS NOT excluded.timeout_ms
      THEN excluded.updated_at ELSE task_types.updated_at END,
    description = excluded.description, payload_schema = excluded.payload_schema, examples = excluded.examples,
    timeout_ms = excluded.timeout_ms, last_seen_at = excluded.last_seen_at`;
export const TYPE_LIST = `SELECT * FROM task_types ORDER BY name`;

export const WORKER_UPSERT = `
  INSERT INTO workers (id, host, pid, concurrency, running, task_types, started_at, last_heartbeat_at)
  VALUES (@id, @host, @pid, @concurrency, @running, @taskTypes, @startedAt, @now)
  ON CONFLICT (id) DO UPDATE SET
    host = excluded.host, pid = excluded.pid, concurrency = excluded.concurrency, running = excluded.running,
    task_types = excluded.task_types, started_at = excluded.started_at, last_heartbeat_at = excluded.last_heartbeat_at`;
export const WORKER_LIST = `SELECT * FROM workers ORDER BY started_at, id`;
export const WORKER_DELETE = `DELETE FROM workers WHERE id = ?`;

export const USER_INSERT = `
  INSERT INTO users (id, username, email, password_hash, role, is_active, created_at, updated_at)
  VALUES (@id, @username, @email, @passwordHash, @role, 1, @createdAt, @createdAt)`;
export const USER_GET = `SELECT * FROM users WHERE id = ?`;
/** A username match wins over an email match, should one user's username be another's email. */
export const USER_FIND = `
  SELECT * FROM users WHERE lower(username) = lower(@login) OR lower(email) = lower(@login)
   ORDER BY lower(username) = lower(@login) DESC LIMIT 1`;
export const USER_LIST = `SELECT * FROM users ORDER BY created_at, id LIMIT ? OFFSET ?`;
export const USER_COUNT = `SELECT COUNT(*) AS n FROM users WHERE @role IS NULL OR role = @role`;

export const SESSION_INSERT = `
  INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_refreshed_at, user_agent)
  VALUES (@tokenHash, @userId, @createdAt, @expiresAt, @lastRefreshedAt, @userAgent)`;
export const SESSION_GET = `SELECT * FROM sessions WHERE token_hash = @tokenHash AND expires_at > @now`;
/** An expired session cannot be brought back by refreshing it. */
export const SESSION_UPDATE = `
  UPDATE sessions SET expires_at = @expiresAt, last_refreshed_at = @now
   WHERE token_hash = @tokenHash AND expires_at > @now`;
export const SESSION_DELETE = `DELETE FROM sessions WHERE token_hash = ?`;
export const SESSION_DELETE_FOR_USER = `DELETE FROM sessions WHERE user_id = ?`;
export const SESSION_PRUNE = `DELETE FROM sessions WHERE expires_at <= ?`;

export const SCHEDULE_INSERT = `
  INSERT INTO schedules (id, name, cron, timezone, task_type, template, enabled, next_run_at, created_by, created_at, updated_at)
  VALUES (@id, @name, @cron, @timezone, @taskType, @template, @enabled, @nextRunAt, @createdBy, @createdAt, @createdAt)
  RETURNING *`;
export const SCHEDULE_GET = `SELECT * FROM schedules WHERE id = ?`;
export const SCHEDULE_LIST = `SELECT * FROM schedules WHERE @createdBy IS NULL OR created_by = @createdBy ORDER BY name, id`;
/** NULL leaves a column as it is; next_run_at is set only when @setNextRunAt says so (it may be set to NULL). */
export const SCHEDULE_UPDATE = `
  UPDATE schedules
  SET name = coalesce(@name, name), cron = coalesce(@cron, cron), timezone = coalesce(@timezone, timezone),
      task_type = coalesce(@taskType, task_type), template = coalesce(@template, template), enabled = coalesce(@enabled, enabled),
      next_run_at = CASE WHEN @setNextRunAt THEN @nextRunAt ELSE next_run_at END, updated_at = @now
  WHERE id = @id
  RETURNING *`;
export const SCHEDULE_DELETE = `DELETE FROM schedules WHERE id = ?`;
/** The earliest enabled schedules whose owner may still act (a deactivated user's schedules wait). */
export const SCHEDULE_DUE = `
  SELECT s.* FROM schedules s LEFT JOIN users u ON u.id = s.created_by
  WHERE s.enabled AND s.next_run_at IS NOT NULL AND (s.created_by IS NULL OR u.is_active)
  ORDER BY s.next_run_at LIMIT ?`;
/** The fence of a firing: still enabled and still due at the time the scheduler read. */
export const SCHEDULE_FIRE = `
  UPDATE schedules SET next_run_at = @nextRunAt, last_run_at = @dueAt, last_task_id = @taskId, updated_at = @now
  WHERE id = @id AND enabled AND next_run_at = @dueAt`;
