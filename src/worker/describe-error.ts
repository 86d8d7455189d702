/** Text for last_error: an Error's message, or whatever else was thrown, made readable. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    // A TypeError says something the message alone does not; our own task errors' names say nothing.
    const plain = ['Error', 'ConveyorError', 'PermanentTaskError', 'RetryableTaskError', 'TaskAbortedError'].includes(error.name);
    const name = error.name && !plain && !error.message.startsWith(error.name) ? `${error.name}: ` : '';
    return error.message ? `${name}${error.message}` : error.name || 'Error';
  }
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
