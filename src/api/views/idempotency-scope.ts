/**
 * Idempotency keys are unique across the whole table, but clients choose them freely, so the API
 * stores them prefixed by the creator: two users sending the same key get two tasks, and nobody can
 * fetch another user's task by guessing their key.
 */
export function scopeIdempotencyKey(userId: string, key: string): string {
  return `u:${userId}:${key}`;
}

export function unscopeIdempotencyKey(stored: string | null, createdBy: string | null): string | null {
  if (stored === null || createdBy === null) return stored;
  const prefix = `u:${createdBy}:`;
  return stored.startsWith(prefix) ? stored.slice(prefix.length) : stored;
}
