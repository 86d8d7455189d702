import { PermanentTaskError, RetryableTaskError } from '../../core/task-errors.ts';

/** What nodemailer attaches to an SMTP failure (see its NodemailerError). */
interface SmtpFailure {
  message?: string;
  code?: string;
  responseCode?: number;
  response?: string;
  permanent?: boolean;
  rejected?: string[];
}

/**
 * SMTP's own rule (RFC 5321 §4.2.1): a 5yz reply is a permanent refusal, so the task goes to the dead
 * letter; a 4yz reply is transient (a full mailbox, greylisting, a busy server) and is retried. 503 is
 * nodemailer's exception (a bad command sequence, fine on a new connection), which its `permanent` flag
 * carries. A failure without a reply (connection refused, timeout, TLS) is retried too.
 */
export function smtpError(error: unknown): Error {
  const failure = (error ?? {}) as SmtpFailure;
  const code = typeof failure.responseCode === 'number' ? failure.responseCode : undefined;
  const reply = typeof failure.response === 'string' ? failure.response.slice(0, 300) : undefined;
  const text = reply ?? failure.message ?? String(error);
  if (code !== undefined) {
    const permanent = failure.permanent ?? (code >= 500 && code < 600 && code !== 503);
    const message = `SMTP server answered ${code}: ${text}`;
    return permanent ? new PermanentTaskError(message, { cause: error }) : new RetryableTaskError(message, { cause: error });
  }
  // Nodemailer refused the message before sending it (a bad address, file or URL access): retrying cannot help.
  if (failure.code === 'EENVELOPE' || failure.code === 'EMESSAGE' || failure.code === 'EFILEACCESS' || failure.code === 'EURLACCESS') {
    return new PermanentTaskError(`email refused before sending: ${text}`, { cause: error });
  }
  return new RetryableTaskError(`could not reach the SMTP server: ${failure.code ? `${failure.code} ` : ''}${text}`, { cause: error });
}
