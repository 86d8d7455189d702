/** One cell of a report: text, a number, or empty. */
export type ReportCell = string | number | null;
export type ReportRow = Record<string, ReportCell>;

export interface ReportQuery {
  /** Inclusive. */
  start: Date;
  /** Exclusive. */
  end: Date;
  /**
   * The user who asked for the report (the task's creator). Sources over Conveyor's own data report
   * on this user's tasks only, as the API's stats do for a non-admin; null (a task created by the
   * system or the CLI) means all tasks.
   */
  createdBy: string | null;
  signal: AbortSignal;
}

/**
 * Where a report's rows come from. report_generation knows sources by name: its payload schema lists
 * them, so a task naming an unknown report_type is refused when it is created. Sources that read
 * Conveyor's database live outside src/tasks (tasks may not import the store) and are handed to
 * `createBuiltinTasks`.
 */
export interface ReportSource {
  /** The report_type, e.g. `task_activity`. */
  name: string;
  description: string;
  /** Column order for CSV and HTML (and the header of an empty report). */
  columns: readonly string[];
  rows(query: ReportQuery): Promise<ReportRow[]>;
}
