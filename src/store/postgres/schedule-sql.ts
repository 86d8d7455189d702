export const SCHEDULE_COLUMNS = 'id, name, cron, timezone, task_type, template, enabled, next_run_at, last_run_at, last_task_id, created_by, created_at, updated_at';

/** The statements of the schedules table, for postgresSql. `s` is the quoted schema; `statement` names one. */
export function scheduleStatements<S>(s: string, statement: (suffix: string, text: string) => S) {
  const columns = SCHEDULE_COLUMNS.split(', ').map((column) => `s.${column}`).join(', ');
  return {
    scheduleInsert: statement('schedule_insert', `
      INSERT INTO ${s}.schedules (id, name, cron, timezone, task_type, template, enabled, next_run_at, created_by, created_at, updated_at)
      VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::jsonb, $7::boolean, $8::timestamptz, $9::uuid, $10::timestamptz, $10::timestamptz)
      RETURNING ${SCHEDULE_COLUMNS}`),
    scheduleGet: statement('schedule_get', `SELECT ${SCHEDULE_COLUMNS} FROM ${s}.schedules WHERE id = $1::uuid`),
    scheduleList: statement('schedule_list', `
      SELECT ${SCHEDULE_COLUMNS} FROM ${s}.schedules WHERE $1::uuid IS NULL OR created_by = $1::uuid ORDER BY name, id`),
    // NULL leaves a column as it is; next_run_at is set only when $8 says so (it may be set to NULL).
    scheduleUpdate: statement('schedule_update', `
      UPDATE ${s}.schedules
      SET name = coalesce($2::text, name), cron = coalesce($3::text, cron), timezone = coalesce($4::text, timezone),
          task_type = coalesce($5::text, task_type), template = coalesce($6::jsonb, template), enabled = coalesce($7::boolean, enabled),
          next_run_at = CASE WHEN $8::boolean THEN $9::timestamptz ELSE next_run_at END, updated_at = $10::timestamptz
      WHERE id = $1::uuid
      RETURNING ${SCHEDULE_COLUMNS}`),
    scheduleDelete: statement('schedule_delete', `DELETE FROM ${s}.schedules WHERE id = $1::uuid`),
    // The earliest enabled schedules whose owner may still act (a deactivated user's schedules wait).
    scheduleDue: statement('schedule_due', `
      SELECT ${columns} FROM ${s}.schedules s LEFT JOIN ${s}.users u ON u.id = s.created_by
      WHERE s.enabled AND s.next_run_at IS NOT NULL AND (s.created_by IS NULL OR u.is_active)
      ORDER BY s.next_run_at LIMIT $1::int`),
    // The fence of a firing: still enabled and still due at the time the scheduler read.
    scheduleFire: statement('schedule_fire', `
      UPDATE ${s}.schedules SET next_run_at = $3::timestamptz, last_run_at = $2::timestamptz, last_task_id = $4::uuid, updated_at = $5::timestamptz
      WHERE id = $1::uuid AND enabled AND next_run_at = $2::timestamptz`),
  };
}
