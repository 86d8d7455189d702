import { QUOTA_DAY_MS, quotaFor, recipientOutsideDomains, type QuotaConfig } from '../core/quota.ts';
import type { Clock } from '../core/clock.ts';
import type { Engine } from '../store/engine.ts';
import type { RecipientCheck } from '../tasks/builtin/email.ts';

/**
 * The email handler's recipient check, from the database: the owner's role's domains and its daily
 * recipient cap, counted per task in the engine (emailRecipientsCount), so a task the API counted at
 * creation is not counted again and a task that bypassed the API is counted when it is sent. Tasks
 * without an owner (the CLI's, the library's) are the operator's and are not limited.
 */
export function emailRecipientPolicy(p: { engine: Engine; quotas: QuotaConfig; clock: Clock }): RecipientCheck {
  return async ({ ownerId, taskId, recipients }) => {
    if (ownerId === null) return null;
    const owner = await p.engine.userGet({ id: ownerId });
    const role = owner?.role ?? 'user';
    const limits = quotaFor(p.quotas, role);
    const outside = recipientOutsideDomains(recipients, limits.emailDomains);
    if (outside !== null) return `${outside} is outside the domains the role ${role} may email (${limits.emailDomains.join(', ')}); quota email_domains`;
    if (limits.emailRecipientsPerDay <= 0) return null;
    const now = p.clock.now();
    const cap = limits.emailRecipientsPerDay;
    const { counted, used } = await p.engine.emailRecipientsCount({ ownerId, entries: [{ taskId, recipients: recipients.length }], since: new Date(now.getTime() - QUOTA_DAY_MS), cap, now });
    return counted ? null : `quota email_recipients_per_day: the role ${role} may email ${cap} recipients in 24 hours; ${used} were addressed and this message has ${recipients.length}`;
  };
}
