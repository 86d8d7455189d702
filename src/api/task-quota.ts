import { QUOTA_DAY_MS, minuteWindowStart, quotaCountsNeeded, quotaFor, quotaRefusal, recipientOutsideDomains, type RoleQuota } from '../core/quota.ts';
import type { NewTask } from '../core/new-task.ts';
import type { UserRecord } from '../store/engine.ts';
import { emailRecipients } from '../tasks/builtin/email.ts';
import { ApiError } from './api-error.ts';
import type { ApiContext } from './api-context.ts';

/** The email task type whose recipients the policy limits (the built-in `email`). */
const EMAIL_TASK_TYPE = 'email';
/** How long to wait after the daily recipient cap: a hint (the oldest count leaves the window within a day). */
const EMAIL_RETRY_MS = 3_600_000;

/**
 * The quotas of the caller's role on tasks about to be created (one, a batch, a schedule's run-now),
 * judged whole: a refusal creates none of them. Counted in the database (ownerUsage), so several API
 * servers on one database count the same tasks. Email tasks are checked against the role's recipient
 * domains (422) and counted against its daily recipient cap (429); that count is written here, once
 * per task, and the email handler finds it when it sends. Call it last, right before the insert.
 */
export async function enforceCreationQuotas(ctx: ApiContext, user: UserRecord, tasks: readonly NewTask[], fieldOf: (index: number) => string = () => ''): Promise<void> {
  const limits = quotaFor(ctx.config.quotas, user.role);
  const now = ctx.clock.now();
  checkRecipientDomains(limits, user.role, tasks, fieldOf);
  if (quotaCountsNeeded(limits)) {
    const usage = await ctx.engine.ownerUsage({ ownerId: user.id, since: minuteWindowStart(now) });
    const payloadBytes = tasks.reduce((sum, task) => sum + Buffer.byteLength(task.payloadJson), 0);
    const refusal = quotaRefusal(limits, user.role, usage, { tasks: tasks.length, payloadBytes }, now);
    if (refusal) {
      throw new ApiError('QUOTA_EXCEEDED', refusal.message, {
        retryAfterMs: refusal.retryAfterMs,
        details: { quota: refusal.quota, limit: refusal.limit, used: refusal.used, requested: refusal.requested, role: user.role },
      });
    }
  }
  await countEmailRecipients(ctx, limits, user, tasks, now);
}

/** 422 RECIPIENT_NOT_ALLOWED when an email task writes outside the role's domains (none configured: any). */
export function checkRecipientDomains(limits: RoleQuota, role: string, tasks: readonly NewTask[], fieldOf: (index: number) => string): void {
  if (limits.emailDomains.length === 0) return;
  for (const [index, task] of tasks.entries()) {
    if (task.taskType !== EMAIL_TASK_TYPE) continue;
    for (const { field, address } of emailRecipients(task.payload)) {
      if (recipientOutsideDomains([address], limits.emailDomains) === null) continue;
      const at = `${fieldOf(index) ? `${fieldOf(index)}.` : ''}payload.${field}`;
      throw new ApiError('RECIPIENT_NOT_ALLOWED', `${at}: ${address} is outside the domains the role ${role} may email (${limits.emailDomains.join(', ')})`, {
        field: at,
        details: { quota: 'email_domains', allowed_domains: [...limits.emailDomains] },
      });
    }
  }
}

async function countEmailRecipients(ctx: ApiContext, limits: RoleQuota, user: UserRecord, tasks: readonly NewTask[], now: Date): Promise<void> {
  if (limits.emailRecipientsPerDay <= 0) return;
  const entries = tasks.filter((task) => task.taskType === EMAIL_TASK_TYPE).map((task) => ({ taskId: task.id, recipients: emailRecipients(task.payload).length }));
  if (entries.length === 0) return;
  const cap = limits.emailRecipientsPerDay;
  const { counted, used } = await ctx.engine.emailRecipientsCount({ ownerId: user.id, entries, since: new Date(now.getTime() - QUOTA_DAY_MS), cap, now });
  if (counted) return;
  const requested = entries.reduce((sum, entry) => sum + entry.recipients, 0);
  throw new ApiError(
    'QUOTA_EXCEEDED',
    `Quota email_recipients_per_day: the role ${user.role} may email ${cap} recipients in 24 hours; ${used} were addressed and this request adds ${requested}`,
    { retryAfterMs: EMAIL_RETRY_MS, details: { quota: 'email_recipients_per_day', limit: cap, used, requested, role: user.role } },
  );
}
