/** Small display helpers: times, durations, numbers. */

const numberFormat = new Intl.NumberFormat();

export function formatNumber(value) {
  return value === null || value === undefined ? '—' : numberFormat.format(value);
}

/** A list's total: "1,234", or "10,000+" when the server stopped counting (pagination.total_is_exact false). */
export function formatTotal(total, exact = true) {
  return exact === false ? `${formatNumber(total)}+` : formatNumber(total);
}

/**
 * Ids are UUIDv7: the first 12 hex digits are a timestamp, shared by tasks created together, so the
 * short form keeps the start and the random end: `01a226cc…1eeb`.
 */
export function shortId(id) {
  return id ? `${id.slice(0, 8)}…${id.slice(-4)}` : '';
}

/** "4.2 s", "3 min 5 s", "2 h 10 min", "3 d 4 h" */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  if (abs < 60_000) return `${(abs / 1000).toFixed(abs < 10_000 ? 1 : 0)} s`;
  const s = Math.floor(abs / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86_400)} d${Math.floor((s % 86_400) / 3600) ? ` ${Math.floor((s % 86_400) / 3600)} h` : ''}`;
}

/** "just now", "5 s ago", "in 3 min", relative to `now` (ms). */
export function formatRelative(iso, now = Date.now()) {
  if (!iso) return '—';
  const diff = Date.parse(iso) - now;
  if (Math.abs(diff) < 2000) return 'just now';
  return diff < 0 ? `${formatDuration(-diff)} ago` : `in ${formatDuration(diff)}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function formatDateTime(iso) {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

export function formatJson(value) {
  return JSON.stringify(value, null, 2);
}

export function percent(part, whole) {
  return whole > 0 ? `${((part / whole) * 100).toFixed(part / whole < 0.1 ? 1 : 0)}%` : '—';
}

/** The browser's local time as the value of <input type="datetime-local">. */
export function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
