import { join } from 'node:path';
import { systemClock, type Clock } from '../../core/clock.ts';
import type { TaskDefinition } from '../define-task.ts';
import { dataProcessingTask } from './data-processing.ts';
import { createEmailTask, type EmailSettings } from './email.ts';
import { createFileCleanupTask, type FileCleanupSettings } from './file-cleanup.ts';
import { createReportGenerationTask } from './report-generation.ts';
import type { ReportSource } from './report-source.ts';
import { salesDemoSource } from './sales-demo-source.ts';
import { createWebhookTask, type WebhookSettings } from './webhook.ts';

/** What the built-in handlers need from outside src/tasks, resolved from the configuration by the CLI. */
export interface BuiltinTaskDeps {
  dataDir: string;
  /** An empty outboxDir means `<dataDir>/outbox`. */
  email: EmailSettings;
  webhook: WebhookSettings;
  fileCleanup: FileCleanupSettings;
  /**
   * An empty artifactsDir means `<dataDir>/artifacts`. The `sales` demo source is added unless a source
   * of that name is given, so the guide's report example always works.
   */
  reports: { artifactsDir: string; sources: readonly ReportSource[] };
  /** Webhook timestamps, file ages and report dates; tests pass a ManualClock. */
  clock?: Clock;
}

/** email, webhook, data_processing, file_cleanup and report_generation, configured. */
export function createBuiltinTasks(deps: BuiltinTaskDeps): TaskDefinition<any>[] {
  const clock = deps.clock ?? systemClock;
  const sources = deps.reports.sources.some((source) => source.name === salesDemoSource.name)
    ? deps.reports.sources
    : [...deps.reports.sources, salesDemoSource];
  return [
    createEmailTask({ ...deps.email, outboxDir: deps.email.outboxDir || join(deps.dataDir, 'outbox') }),
    createWebhookTask(deps.webhook, clock),
    dataProcessingTask,
    createFileCleanupTask(deps.fileCleanup, clock),
    createReportGenerationTask({ artifactsDir: deps.reports.artifactsDir || join(deps.dataDir, 'artifacts'), sources }, clock),
  ];
}
