import { useEffect, useState } from 'preact/hooks';
import { ConfirmButton, ErrorNotice, JsonBlock, Loading, PageTitle, PriorityBadge, Progress, RelativeTime, StatusBadge } from '../components/ui.js';
import { API_BASE, ApiFailure, api } from '../lib/api.js';
import { useApp, useLive, useLoad, useThrottled } from '../lib/app-context.js';
import { formatDateTime, formatDuration, shortId } from '../lib/format.js';
import { html } from '../lib/html.js';
import { href, navigate } from '../lib/router.js';
import { readSession } from '../lib/session.js';
import { takePrimedTask } from '../lib/task-cache.js';

const CANCELLABLE = ['pending', 'scheduled', 'retrying', 'running'];
const RETRYABLE = ['failed', 'cancelled'];
const DELETABLE = ['completed', 'failed', 'cancelled'];
const WAITING = ['pending', 'scheduled', 'retrying'];

/**
 * A waiting task whose type no live worker takes says so (it would wait forever without a sign). With
 * no worker running at all, a calm note instead: every task waits, nothing is wrong with this one.
 */
function HandlingNotice({ task }) {
  const handling = task.handling;
  if (!handling || !WAITING.includes(task.status)) return null;
  if (handling.state === 'unhandled') {
    return html`<div class="notice notice-warn" role="status" data-testid="handling-notice">
      <strong>No live worker handles ${task.task_type}.</strong> This task waits until a worker with a handler for it starts
      (or cancel it). The running workers take other task types.
    </div>`;
  }
  if (handling.state === 'no_live_workers') {
    return html`<p class="notice notice-info" role="status" data-testid="handling-notice">No worker is running right now: this task waits until one starts.</p>`;
  }
  return null;
}

/**
 * The file a finished report task wrote (GET /tasks/:id/artifact). The API wants the bearer token,
 * which a plain link cannot send, so the file is fetched and handed to the browser as a download.
 */
function ArtifactDownload({ task }) {
  const [state, setState] = useState({ busy: false, error: null });
  const file = task.output.file;
  const download = async () => {
    setState({ busy: true, error: null });
    try {
      const session = readSession();
      const response = await fetch(`${API_BASE}/tasks/${task.id}/artifact`, {
        headers: session ? { authorization: `Bearer ${session.token}` } : {},
        cache: 'no-store',
      });
      if (!response.ok) {
        const body = await response.json().catch(() => null);
        throw new ApiFailure(response.status, body?.error?.code ?? `HTTP_${response.status}`, body?.error?.message ?? `The download failed (HTTP ${response.status})`);
      }
      const url = URL.createObjectURL(await response.blob());
      const link = Object.assign(document.createElement('a'), { href: url, download: file });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setState({ busy: false, error: null });
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return html`<p class="artifact">
    <a href=${`${API_BASE}/tasks/${task.id}/artifact`} class="btn" download=${file} aria-busy=${state.busy ? 'true' : 'false'}
      onClick=${(event) => { event.preventDefault(); if (!state.busy) download(); }}>Download ${file}</a>
    ${state.error ? html`<${ErrorNotice} error=${state.error} />` : null}
  </p>`;
}

/** Creation, each finished attempt with its error, then what happens now (running, next retry...). */
function Timeline({ task }) {
  const attempts = [...task.attempts].sort((a, b) => a.attempt - b.attempt);
  return html`<ol class="timeline">
    <li class="tl-item tl-created">
      <div class="tl-marker" aria-hidden="true"></div>
      <div class="tl-body">
        <div class="tl-head"><strong>Created</strong> <span class="muted"><${RelativeTime} iso=${task.created_at} /> · ${formatDateTime(task.created_at)}</span></div>
        ${task.scheduled_at ? html`<p class="small">Scheduled for ${formatDateTime(task.scheduled_at)}</p>` : null}
      </div>
    </li>
    ${attempts.map((a) => html`<li class=${`tl-item tl-${a.outcome}`}>
      <div class="tl-marker" aria-hidden="true"></div>
      <div class="tl-body">
        <div class="tl-head">
          <strong>Attempt ${a.attempt}</strong>
          <span class=${`badge outcome-${a.outcome}`}>${a.outcome.replace('_', ' ')}</span>
          <span class="muted">${a.started_at ? `${formatDuration(Date.parse(a.finished_at) - Date.parse(a.started_at))} · ` : ''}ended <${RelativeTime} iso=${a.finished_at} /></span>
        </div>
        ${a.worker_id ? html`<p class="small muted">on <span class="mono">${a.worker_id}</span></p>` : null}
        ${a.error ? html`<pre class="error-text">${a.error}</pre>` : null}
      </div>
    </li>`)}
    ${task.status === 'running'
      ? html`<li class="tl-item tl-running">
          <div class="tl-marker" aria-hidden="true"></div>
          <div class="tl-body">
            <div class="tl-head"><strong>Attempt ${task.current_attempt}</strong> <${StatusBadge} status="running" /> <span class="muted">started <${RelativeTime} iso=${task.started_at} /></span></div>
            ${task.worker_id ? html`<p class="small muted">on <span class="mono">${task.worker_id}</span>${task.lease_expires_at ? html` · lease until ${formatDateTime(task.lease_expires_at)}` : null}</p>` : null}
            ${task.cancel_requested_at ? html`<p class="small">Cancellation requested <${RelativeTime} iso=${task.cancel_requested_at} />; the worker is stopping it.</p>` : null}
          </div>
        </li>`
      : null}
    ${task.status === 'retrying' || task.status === 'pending' || task.status === 'scheduled'
      ? html`<li class="tl-item tl-next">
          <div class="tl-marker" aria-hidden="true"></div>
          <div class="tl-body"><div class="tl-head"><strong>${task.status === 'retrying' ? 'Next attempt' : 'Runs'}</strong> <span class="muted">${Date.parse(task.run_at) > Date.now() ? html`<${RelativeTime} iso=${task.run_at} />` : 'as soon as a worker is free'}</span></div></div>
        </li>`
      : null}
  </ol>`;
}

function Actions({ task, onChanged }) {
  const { notify } = useApp();
  const act = async (verb, method, path, done) => {
    try {
      const result = await api(method, path);
      done?.(result);
    } catch (error) {
      notify(`Could not ${verb}: ${error.message}`, 'error');
    }
  };
  return html`<div class="actions" role="group" aria-label="Task actions">
    ${CANCELLABLE.includes(task.status) && !task.cancel_requested_at
      ? html`<${ConfirmButton} label="Cancel task" confirmLabel="Yes, cancel it" onConfirm=${() => act('cancel', 'POST', `/tasks/${task.id}/cancel`, (r) => {
          notify(r.data.status === 'cancelled' ? 'Task cancelled' : 'Cancellation requested; the worker is stopping it', 'success');
          onChanged(r.data);
        })} />`
      : null}
    ${RETRYABLE.includes(task.status)
      ? html`<button type="button" class="btn btn-primary" onClick=${() => act('retry', 'POST', `/tasks/${task.id}/retry`, (r) => {
          notify('Task queued to run again', 'success');
          onChanged(r.data);
        })}>Retry</button>`
      : null}
    ${DELETABLE.includes(task.status)
      ? html`<${ConfirmButton} label="Delete" confirmLabel="Yes, delete it" onConfirm=${() => act('delete', 'DELETE', `/tasks/${task.id}`, () => {
          notify('Task deleted', 'success');
          navigate('/tasks');
        })} />`
      : null}
  </div>`;
}

export function TaskPage({ id }) {
  const { user } = useApp();
  const [gone, setGone] = useState(false);
  const [primed] = useState(() => takePrimedTask(id));
  const task = useLoad(async () => (await api('GET', `/tasks/${id}`)).data, [id], primed);
  const refresh = useThrottled(() => task.reload(), 400);

  useLive('tasks', (event) => {
    if (event.deleted.includes(id)) setGone(true);
    else if (event.tasks.some((t) => t.id === id)) refresh();
  });
  // After a reconnection, catch up on anything missed meanwhile.
  useLive('reconnected', refresh);
  // Workers came or went (moderators and admins are told): whether one takes this type may have changed.
  useLive('monitor', (hint) => {
    if (hint.workers) refresh();
  });
  useEffect(() => {
    document.title = `Task ${shortId(id)} · Conveyor`;
  }, [id]);

  if (task.loading && !task.data) return html`<div class="page"><${PageTitle}>Task<//><${Loading} /></div>`;
  if (task.error && !task.data) {
    const missing = task.error.status === 404 || task.error.status === 400;
    return html`<div class="page">
      <${PageTitle}>${missing ? 'Task not found' : 'Task'}<//>
      ${missing
        ? html`<p class="notice notice-info" role="status">No task <code>${id}</code> exists that you may see. Tasks are visible to the user who created them, and to moderators and admins.</p>`
        : html`<${ErrorNotice} error=${task.error} />`}
      <p><a href=${href('/tasks')}>Back to tasks</a></p>
    </div>`;
  }
  const t = task.data;
  return html`<div class="page task-page">
    <nav class="crumbs" aria-label="Breadcrumb"><a href=${href('/tasks')}>Tasks</a> <span aria-hidden="true">/</span> <span class="mono">${shortId(t.id)}</span></nav>
    <${PageTitle} actions=${html`<${Actions} task=${t} onChanged=${(next) => task.setData({ ...next, handling: next.handling ?? t.handling })} />`}>
      <span class="title-type">${t.task_type}</span> <${StatusBadge} status=${t.status} />
    <//>
    ${gone ? html`<div class="notice notice-info" role="status">This task was deleted.</div>` : null}
    <p class="mono muted id-line">${t.id}</p>
    <${HandlingNotice} task=${t} />
    ${t.last_error && t.status !== 'completed'
      ? html`<div class="notice notice-error"><strong>Last error</strong><pre class="error-text">${t.last_error}</pre></div>`
      : null}
    <div class="grid">
      <section class="card" aria-labelledby="details-title">
        <h2 id="details-title">Details</h2>
        <dl class="details">
          <dt>Priority</dt><dd><${PriorityBadge} priority=${t.priority} /></dd>
          <dt>Attempts</dt><dd>${t.current_attempt} of ${t.max_attempts}${t.rescue_count ? ` · rescued ${t.rescue_count}×` : ''}</dd>
          <dt>Created</dt><dd><${RelativeTime} iso=${t.created_at} /></dd>
          <dt>Scheduled</dt><dd>${t.scheduled_at ? formatDateTime(t.scheduled_at) : 'as soon as possible'}</dd>
          <dt>Due</dt><dd>${formatDateTime(t.run_at)}</dd>
          <dt>Started</dt><dd>${t.started_at ? html`<${RelativeTime} iso=${t.started_at} />` : '—'}</dd>
          <dt>Finished</dt><dd>${t.completed_at ? html`<${RelativeTime} iso=${t.completed_at} />` : '—'}</dd>
          <dt>Updated</dt><dd><${RelativeTime} iso=${t.updated_at} /></dd>
          <dt>Retries</dt><dd>${t.retry_strategy?.type ?? '—'}${t.retry_strategy?.base_delay_ms ? `, from ${formatDuration(t.retry_strategy.base_delay_ms)}` : ''}${t.retry_strategy?.interval_ms ? `, every ${formatDuration(t.retry_strategy.interval_ms)}` : ''}</dd>
          ${t.idempotency_key ? html`<dt>Idempotency key</dt><dd class="mono">${t.idempotency_key}</dd>` : null}
          ${t.worker_id ? html`<dt>Worker</dt><dd class="mono">${t.worker_id}</dd>` : null}
          <dt>Created by</dt><dd>${t.created_by === user.id ? 'you' : t.created_by ? html`<span class="mono">${shortId(t.created_by)}</span>` : '—'}</dd>
          ${typeof t.metadata?.schedule === 'string' ? html`<dt>Schedule</dt><dd><a href=${href('/schedules')}>${t.metadata.schedule}</a></dd>` : null}
        </dl>
      </section>
      <section class="card" aria-labelledby="progress-title">
        <h2 id="progress-title">Progress</h2>
        <${Progress} progress=${t.progress} />
        <h2 class="mt">Metadata</h2>
        <${JsonBlock} value=${Object.keys(t.metadata ?? {}).length ? t.metadata : null} label="Metadata" />
      </section>
      <section class="card" aria-labelledby="payload-title">
        <h2 id="payload-title">Payload</h2>
        <${JsonBlock} value=${t.payload} label="Payload" />
      </section>
      <section class="card" aria-labelledby="output-title">
        <h2 id="output-title">Output</h2>
        ${t.status === 'completed' && typeof t.output?.file === 'string' ? html`<${ArtifactDownload} task=${t} />` : null}
        ${t.status === 'completed' || t.output !== null ? html`<${JsonBlock} value=${t.output} label="Output" />` : html`<p class="muted">Not finished yet.</p>`}
      </section>
      <section class="card span-2" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <${Timeline} task=${t} />
      </section>
    </div>
  </div>`;
}
