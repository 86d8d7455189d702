import type { Engine } from '../store/engine.ts';
import { createBuiltinTasks } from '../tasks/builtin/builtin-tasks.ts';
import { delayTask } from '../tasks/builtin/delay-task.ts';
import { defaultCleanupRoots } from '../tasks/builtin/path-guard.ts';
import type { TaskDefinition } from '../tasks/define-task.ts';
import { TaskRegistry } from '../tasks/task-registry.ts';
import { systemClock } from '../core/clock.ts';
import { quotaConfigFrom, type Config } from './config.ts';
import { emailRecipientPolicy } from './email-recipient-policy.ts';
import { createEngineReportSources } from './report-sources.ts';

/**
 * Every task type Conveyor ships, configured, plus the application's own (`custom`). The API and the
 * workers build the same catalogue, so the API validates payloads (report_type included) exactly as
 * the workers will.
 */
export function createTaskRegistry(config: Config, engine: Engine, custom: readonly TaskDefinition[] = []): TaskRegistry {
  const roots = config.file_cleanup.roots.length > 0 ? [...config.file_cleanup.roots] : defaultCleanupRoots(config.data.dir);
  const builtins = createBuiltinTasks({
    dataDir: config.data.dir,
    email: {
      smtpUrl: config.email.smtp_url || undefined,
      from: config.email.from,
      outboxDir: config.email.outbox_dir,
      allowPlaintextAuth: config.email.allow_plaintext_auth,
      checkRecipients: emailRecipientPolicy({ engine, quotas: quotaConfigFrom(config), clock: systemClock }),
    },
    webhook: { secret: config.webhook.secret, allowHosts: [...config.webhook.allow_hosts], timeoutMs: config.webhook.timeout_ms },
    fileCleanup: { roots },
    reports: { artifactsDir: config.reports.artifacts_dir, sources: createEngineReportSources(engine) },
  });
  return new TaskRegistry().register(...builtins, delayTask, ...custom);
}
