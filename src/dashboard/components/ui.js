import { useEffect, useRef, useState } from 'preact/hooks';
import { useNow } from '../lib/app-context.js';
import { formatDateTime, formatJson, formatRelative } from '../lib/format.js';
import { html } from '../lib/html.js';

export const STATUSES = ['pending', 'scheduled', 'running', 'retrying', 'completed', 'failed', 'cancelled'];
export const PRIORITIES = ['critical', 'high', 'normal', 'low'];
const STATUS_LABEL = { failed: 'failed', pending: 'pending', scheduled: 'scheduled', running: 'running', retrying: 'retrying', completed: 'completed', cancelled: 'cancelled' };

/** Status as text in a tinted pill: the colour helps, the word carries the meaning. */
export function StatusBadge({ status }) {
  return html`<span class=${`badge status-${status}`} data-status=${status}>${STATUS_LABEL[status] ?? status}</span>`;
}

export function PriorityBadge({ priority }) {
  return html`<span class=${`priority priority-${priority}`}>${priority}</span>`;
}

/** "3 min ago", with the exact time on hover and for screen readers' <time>. */
export function RelativeTime({ iso }) {
  const now = useNow(5000);
  if (!iso) return html`<span class="muted">—</span>`;
  return html`<time datetime=${iso} title=${formatDateTime(iso)}>${formatRelative(iso, now)}</time>`;
}

export function JsonBlock({ value, label }) {
  if (value === null || value === undefined) return html`<p class="muted">None</p>`;
  return html`<pre class="json" tabindex="0" aria-label=${`${label} (JSON)`}>${formatJson(value)}</pre>`;
}

/** False until the first page has shown: on a fresh load, focus stays at the top (the skip link comes first). */
let navigated = false;

/** The page's title; focused when the user moves to another page, so screen readers announce it. */
export function PageTitle({ children, actions }) {
  const ref = useRef(null);
  useEffect(() => {
    if (navigated) ref.current?.focus({ preventScroll: true });
    navigated = true;
  }, []);
  return html`<div class="page-head">
    <h1 tabindex="-1" ref=${ref}>${children}</h1>
    ${actions ? html`<div class="page-actions">${actions}</div>` : null}
  </div>`;
}

export function ErrorNotice({ error, title = 'Something went wrong' }) {
  if (!error) return null;
  return html`<div class="notice notice-error" role="alert">
    <strong>${title}</strong>
    <span>${error.message}${error.field && !error.message.includes(error.field) ? html` (<code>${error.field}</code>)` : null}</span>
  </div>`;
}

export function Loading({ label = 'Loading…' }) {
  return html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>${label}</p>`;
}

export function Empty({ children }) {
  return html`<div class="empty">${children}</div>`;
}

/**
 * A button that asks once more before acting (inline, no modal): the first press shows
 * "Confirm" and "Keep", and focus moves to "Keep" so a stray Enter does nothing harmful.
 */
export function ConfirmButton({ label, confirmLabel, onConfirm, kind = 'danger', disabled, small, describedBy }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const keep = useRef(null);
  const trigger = useRef(null);
  const asked = useRef(false);
  useEffect(() => {
    if (asking) keep.current?.focus();
    // Back from the question: focus returns to the button (if it is still there), not to the page's start.
    else if (asked.current) trigger.current?.focus();
    asked.current = asking;
  }, [asking]);
  const cls = (k) => `btn btn-${k}${small ? ' btn-small' : ''}`;
  if (!asking) {
    return html`<button type="button" ref=${trigger} class=${cls(kind === 'danger' ? 'danger-outline' : kind)} disabled=${disabled || busy} aria-describedby=${describedBy} onClick=${() => setAsking(true)}>${label}</button>`;
  }
  return html`<span class="confirm" role="group" aria-label=${`Confirm: ${label}`}>
    <button type="button" class=${cls(kind)} disabled=${busy} onClick=${async () => {
      setBusy(true);
      try {
        await onConfirm();
      } finally {
        setBusy(false);
        setAsking(false);
      }
    }}>${confirmLabel ?? `Yes, ${label.toLowerCase()}`}</button>
    <button type="button" class=${cls('ghost')} ref=${keep} disabled=${busy} onClick=${() => setAsking(false)}>Keep</button>
  </span>`;
}

/** A handler's progress report: `{percent, message}` as a bar, anything else as JSON. */
export function Progress({ progress, compact }) {
  if (progress === null || progress === undefined) return compact ? html`<span class="muted">—</span>` : html`<p class="muted">No progress reported</p>`;
  const pct = typeof progress === 'number' ? progress : typeof progress?.percent === 'number' ? progress.percent : null;
  const message = typeof progress?.message === 'string' ? progress.message : null;
  if (pct === null) return compact ? html`<span class="muted">reported</span>` : html`<${JsonBlock} value=${progress} label="Progress" />`;
  const clamped = Math.max(0, Math.min(100, pct));
  return html`<div class=${compact ? 'progress compact' : 'progress'}>
    <div class="progress-track" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(clamped)} aria-label="Progress">
      <div class="progress-fill" style=${{ width: `${clamped}%` }}></div>
    </div>
    <span class="progress-text">${Math.round(clamped)}%${message && !compact ? ` · ${message}` : ''}</span>
  </div>`;
}
