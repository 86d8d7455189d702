import { useEffect, useRef, useState } from 'preact/hooks';
import { FailureRateChart, LatencyChart, ThroughputChart, historySlots } from '../components/charts.js';
import { ConfirmButton, Empty, ErrorNotice, Loading, PageTitle, Progress, RelativeTime, STATUSES, StatusBadge } from '../components/ui.js';
import { api } from '../lib/api.js';
import { useApp, useLive, useLoad, useNow, useThrottled } from '../lib/app-context.js';
import { formatDuration, formatNumber, percent, shortId } from '../lib/format.js';
import { html } from '../lib/html.js';
import { href } from '../lib/router.js';
import { hasRole } from '../lib/session.js';

/** How many running tasks the overview looks up to show which worker runs what. */
const RUNNING_DETAILS = 12;

/** Workers, and the running tasks each one holds (the task detail names its worker). */
async function loadWorkers() {
  const [workers, running] = await Promise.all([api('GET', '/workers'), api('GET', '/tasks?status=running&limit=50')]);
  const details = await Promise.all(
    running.data.slice(0, RUNNING_DETAILS).map((t) => api('GET', `/tasks/${t.id}`).then((r) => r.data, () => null)),
  );
  const byWorker = new Map();
  for (const task of details) {
    if (!task || task.status !== 'running') continue;
    if (!byWorker.has(task.worker_id)) byWorker.set(task.worker_id, []);
    byWorker.get(task.worker_id).push(task);
  }
  return { workers: workers.data, byWorker, runningTotal: running.pagination.total ?? running.data.length, looked: details.length };
}

function StatusCards({ stats }) {
  return html`<section aria-labelledby="counts-title" class="section">
    <h2 id="counts-title" class="sr-only">Tasks by status</h2>
    <ul class="stat-grid" role="list">
      <li><a class="stat-card stat-total" href=${href('/tasks')}>
        <span class="stat-label">Total</span><span class="stat-value" data-testid="count-total">${formatNumber(stats?.total)}</span>
      </a></li>
      ${STATUSES.map((status) => html`<li><a class=${`stat-card stat-${status}`} href=${href('/tasks', { status })}>
        <span class="stat-label">${status[0].toUpperCase() + status.slice(1)}</span>
        <span class="stat-value" data-testid=${`count-${status}`}>${formatNumber(stats?.[status])}</span>
        ${status === 'failed' ? html`<span class="stat-note">the dead letter</span>` : null}
      </a></li>`)}
    </ul>
  </section>`;
}

function QueuePanel({ stats, liveWorkers }) {
  const now = useNow(1000);
  const age = stats?.oldest_ready_age_ms === null || stats?.oldest_ready_age_ms === undefined ? null : stats.oldest_ready_age_ms + (stats.received_at ? now - stats.received_at : 0);
  const depth = stats ? stats.pending + stats.retrying : null;
  return html`<section class="card" aria-labelledby="queue-title">
    <h2 id="queue-title">Queue</h2>
    <dl class="kv-grid">
      <div><dt>Ready queue depth</dt><dd><span class="big" data-testid="queue-depth">${formatNumber(depth)}</span><small class="muted">pending + retrying</small></dd></div>
      <div><dt>Oldest ready task</dt><dd><span class="big">${age === null ? 'none' : formatDuration(age)}</span><small class="muted">${age === null ? 'the queue is drained' : 'waiting for a worker'}</small></dd></div>
      <div><dt>Running</dt><dd><span class="big">${formatNumber(stats?.running)}</span><small class="muted">${liveWorkers === null ? '' : `${liveWorkers} worker${liveWorkers === 1 ? '' : 's'} online`}</small></dd></div>
      <div><dt>Scheduled</dt><dd><span class="big">${formatNumber(stats?.scheduled)}</span><small class="muted">due later</small></dd></div>
    </dl>
  </section>`;
}

const RANGES = [
  { range: '1h', label: '1 hour' },
  { range: '24h', label: '24 hours' },
  { range: '7d', label: '7 days' },
];

/**
 * Finished tasks over time, from the per-minute rollups the database keeps (GET /tasks/history): the
 * same after a restart of the API, and for the role user their own tasks. Reloaded once a minute,
 * when a new minute may have been rolled up.
 */
function ThroughputPanel({ stats }) {
  const [range, setRange] = useState('24h');
  const history = useLoad(async () => (await api('GET', `/tasks/history?range=${range}`)).data, [range]);
  const { reload } = history;
  useEffect(() => {
    const timer = setInterval(() => reload(), 60_000);
    return () => clearInterval(timer);
  }, [reload]);
  const slots = historySlots(history.data);
  const completed = stats?.completed_last_hour ?? 0;
  const failed = stats?.failed_last_hour ?? 0;
  const shown = RANGES.find((r) => r.range === range).label;
  const sum = (key) => slots.reduce((n, s) => n + (s[key] ?? 0), 0);
  return html`<section class="card span-2" aria-labelledby="throughput-title">
    <div class="card-head">
      <h2 id="throughput-title">Finished tasks</h2>
      <dl class="inline-stats">
        <div><dt>Completed, last hour</dt><dd data-testid="completed-hour">${formatNumber(completed)}</dd></div>
        <div><dt>Failed, last hour</dt><dd>${formatNumber(failed)}</dd></div>
        <div><dt>Failure rate</dt><dd>${percent(failed, completed + failed)}</dd></div>
        <div><dt>Last minute</dt><dd>${formatNumber(stats?.completed_last_minute)} / ${formatNumber(stats?.failed_last_minute)}</dd></div>
      </dl>
    </div>
    <div class="btn-group" role="group" aria-label="Chart range">
      ${RANGES.map((r) => html`<button type="button" class=${`btn btn-small ${r.range === range ? 'btn-primary' : ''}`} aria-pressed=${r.range === range ? 'true' : 'false'} onClick=${() => setRange(r.range)}>${r.label}</button>`)}
    </div>
    <${ErrorNotice} error=${history.error} title="Could not load the history" />
    <div class="charts" data-testid="history-charts" data-range=${history.data?.range ?? ""} data-completed=${sum('completed')} data-failed=${sum('failed')}>
      <figure>
        <figcaption>Finished, last ${shown} <span class="legend"><span class="swatch swatch-completed"></span>completed <span class="swatch swatch-failed"></span>failed</span></figcaption>
        <${ThroughputChart} slots=${slots} label=${`Tasks finished over the last ${shown}: ${sum('completed')} completed, ${sum('failed')} failed`} />
      </figure>
      <figure>
        <figcaption>Failure rate</figcaption>
        <${FailureRateChart} slots=${slots} label=${`Failure rate over the last ${shown}`} />
      </figure>
      <figure>
        <figcaption>Queue wait and run time, p95 <span class="legend"><span class="swatch swatch-wait"></span>wait <span class="swatch swatch-run"></span>run</span></figcaption>
        <${LatencyChart} slots=${slots} label=${`95th percentile queue wait and run time over the last ${shown}`} />
      </figure>
    </div>
    <p class="hint">From per-minute rollups stored in the database${history.data?.scope === 'own' ? ' (your own tasks)' : ''}; the last minute or two are counted from the tasks as they finish.</p>
  </section>`;
}

function WorkersPanel({ state }) {
  const { data, error, loading } = state;
  return html`<section class="card span-2" aria-labelledby="workers-title">
    <h2 id="workers-title">Workers</h2>
    ${loading && !data ? html`<${Loading} />` : null}
    <${ErrorNotice} error=${error} title="Could not load workers" />
    ${data && data.workers.length === 0 ? html`<${Empty}>No worker has registered yet. Start one with <code>conveyor work</code>.<//>` : null}
    ${data && data.workers.length > 0
      ? html`<ul class="worker-list" role="list">
          ${data.workers.map((w) => {
            const tasks = data.byWorker.get(w.id) ?? [];
            return html`<li class=${`worker ${w.live ? '' : 'worker-stale'}`}>
              <div class="worker-head">
                <span class=${`dot ${w.live ? 'dot-ok' : 'dot-off'}`} aria-hidden="true"></span>
                <strong class="mono">${w.host}:${w.pid}</strong>
                <span class="muted">${w.live ? 'online' : 'no recent heartbeat'} · heartbeat <${RelativeTime} iso=${w.last_heartbeat_at} /></span>
              </div>
              <div class="slots" aria-label=${`${w.running} of ${w.concurrency} slots busy`}>
                ${Array.from({ length: Math.min(w.concurrency, 32) }, (_, i) => html`<span class=${i < w.running ? 'slot busy' : 'slot'}></span>`)}
                <span class="muted">${w.running}/${w.concurrency} busy</span>
              </div>
              ${tasks.length > 0
                ? html`<ul class="running-list" role="list">${tasks.map((t) => html`<li>
                    <a href=${href(`/tasks/${t.id}`)} class="mono">${shortId(t.id)}</a> <span>${t.task_type}</span>
                    <span class="muted">since <${RelativeTime} iso=${t.started_at} /></span>
                    ${t.progress !== null ? html`<${Progress} progress=${t.progress} compact />` : null}
                  </li>`)}</ul>`
                : null}
              <p class="muted small">Handles: ${w.task_types.join(', ') || 'every registered type'}</p>
            </li>`;
          })}
        </ul>
        ${data.runningTotal > data.looked ? html`<p class="hint">${data.runningTotal - data.looked} more running tasks: <a href=${href('/tasks', { status: 'running' })}>see all running</a></p>` : null}`
      : null}
  </section>`;
}

/**
 * Pausing a type asks for an optional reason in place (no dialog): the reason field takes focus, Enter
 * pauses, Escape or Keep goes back to the button.
 */
function PauseForm({ taskType, onPause, onClose }) {
  const [busy, setBusy] = useState(false);
  const [reason, setReason] = useState('');
  const input = useRef(null);
  useEffect(() => {
    input.current?.focus();
  }, []);
  const id = `pause-reason-${taskType}`;
  return html`<form class="pause-form" aria-label=${`Pause ${taskType}`}
    onKeyDown=${(e) => {
      if (e.key === 'Escape' && !busy) onClose();
    }}
    onSubmit=${async (e) => {
      e.preventDefault();
      setBusy(true);
      try {
        // Stays open when the API refuses, so the reason is not lost.
        if (await onPause(reason.trim())) onClose();
      } finally {
        setBusy(false);
      }
    }}>
    <label for=${id} class="small">Reason <span class="muted">(optional, shown to everyone)</span></label>
    <input id=${id} ref=${input} maxlength="500" autocomplete="off" value=${reason} disabled=${busy}
      placeholder="e.g. the mail provider is down until 14:00" onInput=${(e) => setReason(e.currentTarget.value)} />
    <span class="confirm">
      <button type="submit" class="btn btn-primary btn-small" disabled=${busy}>Pause ${taskType}</button>
      <button type="button" class="btn btn-ghost btn-small" disabled=${busy} onClick=${onClose}>Keep</button>
    </span>
  </form>`;
}

/**
 * Setting (or removing) a type's concurrency limit in place, like pausing: the number takes focus, Enter
 * sets it, Escape or Keep goes back to the button. A value the API refuses is explained next to the
 * number, and the form stays open to correct it.
 */
function LimitForm({ taskType, limit, onLimit, onClose }) {
  const [value, setValue] = useState(limit === null ? '' : String(limit));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const input = useRef(null);
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);
  useEffect(() => {
    if (problem) input.current?.focus();
  }, [problem]);
  const act = async (maxRunning) => {
    setBusy(true);
    setProblem(null);
    try {
      const outcome = await onLimit(maxRunning);
      if (outcome.ok) onClose();
      else if (outcome.problem) setProblem(outcome.problem);
    } finally {
      setBusy(false);
    }
  };
  const id = `limit-${taskType}`;
  // The API judges the number (the browser's own checks are off), so its message is the one shown.
  return html`<form class="limit-form" aria-label=${`Limit ${taskType}`} noValidate
    onKeyDown=${(e) => {
      if (e.key === 'Escape' && !busy) onClose();
    }}
    onSubmit=${(e) => {
      e.preventDefault();
      if (busy) return;
      const text = value.trim();
      if (text === '') setProblem('Enter a whole number: at most this many of its tasks run at once.');
      else void act(Number(text));
    }}>
    <label for=${id} class="small">At most this many at once <span class="muted">(across every worker)</span></label>
    <input id=${id} ref=${input} type="number" inputmode="numeric" min="1" max="100000" step="1" autocomplete="off"
      value=${value} readOnly=${busy} placeholder="e.g. 5" aria-invalid=${problem ? 'true' : 'false'} aria-describedby=${problem ? `${id}-error` : undefined}
      onInput=${(e) => setValue(e.currentTarget.value)} />
    <span class="confirm">
      <button type="submit" class="btn btn-primary btn-small" disabled=${busy}>Set limit</button>
      ${limit !== null ? html`<button type="button" class="btn btn-small" disabled=${busy} onClick=${() => act(null)}>Remove limit</button>` : null}
      <button type="button" class="btn btn-ghost btn-small" disabled=${busy} onClick=${onClose}>Keep</button>
    </span>
    ${problem ? html`<small id=${`${id}-error`} class="hint bad" role="alert">${problem}</small>` : null}
  </form>`;
}

/**
 * One task type: its circuit breaker, whether it is paused and its concurrency limit, with the actions
 * the role allows. At most one of its forms (pause, limit) is open at a time.
 */
function TypeRow({ row, anyLive, canReset, canPause, onReset, onPause, onResume, onLimit }) {
  const { taskType, breaker, type, scopes } = row;
  const paused = type?.paused === true;
  const limit = type?.max_running ?? null;
  const resettable = canReset && breaker && breaker.state !== 'closed';
  const [resuming, setResuming] = useState(false);
  const [editing, setEditing] = useState(null);
  const item = useRef(null);
  const acted = useRef(false);
  const triggers = useRef({});
  const edited = useRef(null);
  useEffect(() => {
    // After pausing or resuming here, focus goes to the way back (Resume, or Pause), not to the page's start.
    if (acted.current) item.current?.querySelector('[data-action]')?.focus();
    acted.current = false;
    // Paused meanwhile (here or elsewhere): the pause form has nothing left to do.
    if (paused) setEditing((open) => (open === 'pause' ? null : open));
  }, [paused]);
  useEffect(() => {
    // A closed form hands focus back to the button that opened it, if that is still there.
    if (editing === null && edited.current) triggers.current[edited.current]?.focus();
    edited.current = editing;
  }, [editing]);
  const close = () => setEditing(null);
  const trigger = (name) => (el) => {
    triggers.current[name] = el;
  };
  return html`<li class="breaker" data-task-type=${taskType} ref=${item}>
    <span class="mono">${taskType}</span>
    ${breaker ? html`<span class=${`badge breaker-${breaker.state}`} title=${`Circuit breaker ${breaker.state.replace('_', '-')}`}><span class="sr-only">breaker </span>${breaker.state.replace('_', '-')}</span>` : null}
    ${paused ? html`<span class="badge type-paused">paused</span>` : null}
    ${anyLive && type && type.has_live_worker === false ? html`<span class="badge type-unhandled" title="Workers are running, but none has a handler for this type">no live worker</span>` : null}
    ${resettable || (canPause && type) ? html`<span class="type-actions">
      ${resettable ? html`<${ConfirmButton} small kind="primary" label="Reset" confirmLabel="Close breaker" onConfirm=${() => onReset(taskType)} />` : null}
      ${canPause && paused
        ? html`<button type="button" class="btn btn-small btn-primary" data-action="resume" disabled=${resuming} onClick=${async () => {
            setResuming(true);
            acted.current = true;
            try {
              if (!(await onResume(taskType))) acted.current = false;
            } finally {
              setResuming(false);
            }
          }}>Resume</button>`
        : null}
      ${canPause && type && !paused && editing !== 'pause'
        ? html`<button type="button" ref=${trigger('pause')} class="btn btn-small" data-action="pause" onClick=${() => setEditing('pause')}>Pause</button>`
        : null}
      ${canPause && type && editing !== 'limit'
        ? html`<button type="button" ref=${trigger('limit')} class="btn btn-small" data-action="limit" onClick=${() => setEditing('limit')}>Limit</button>`
        : null}
    </span>` : null}
    ${canPause && type && !paused && editing === 'pause' ? html`<${PauseForm} taskType=${taskType} onClose=${close} onPause=${(reason) => {
        acted.current = true;
        return onPause(taskType, reason).then((ok) => {
          if (!ok) acted.current = false;
          return ok;
        });
      }} />` : null}
    ${canPause && type && editing === 'limit' ? html`<${LimitForm} taskType=${taskType} limit=${limit} onClose=${close} onLimit=${(maxRunning) => onLimit(taskType, maxRunning)} />` : null}
    ${breaker && breaker.state !== 'closed' ? html`<p class="type-detail muted small">${breaker.consecutive_failures} failures${breaker.reopens_at ? html` · probes <${RelativeTime} iso=${breaker.reopens_at} />` : ''}</p>` : null}
    ${paused
      ? html`<p class="type-detail small">
          ${type.paused_reason ? html`<span class="pause-reason">${type.paused_reason}</span> · ` : null}<span class="muted">since <${RelativeTime} iso=${type.paused_at} /></span>
        </p>`
      : null}
    ${limit !== null
      ? html`<p class="type-detail muted small type-limit">Limit ${formatNumber(limit)} at once · ${formatNumber(type.running ?? 0)} running${(type.running ?? 0) >= limit ? ' (at the limit)' : ''}</p>`
      : null}
    ${scopes.length > 0
      ? html`<ul class="breaker-scopes" role="list" aria-label=${`${taskType} breakers by destination`}>
          ${scopes.map((b) => html`<${ScopeBreaker} key=${b.scope} breaker=${b} canReset=${canReset} onReset=${onReset} />`)}
        </ul>`
      : null}
  </li>`;
}

/** One scope's breaker of a type (a webhook's destination host): only the tasks that go there wait while it is open. */
function ScopeBreaker({ breaker, canReset, onReset }) {
  const state = breaker.state.replace('_', '-');
  return html`<li class="breaker-scope" data-breaker-scope=${breaker.scope}>
    <span class="mono">${breaker.label}</span>
    <span class=${`badge breaker-${breaker.state}`} title=${`Circuit breaker ${state}`}><span class="sr-only">breaker </span>${state}</span>
    ${canReset && breaker.state !== 'closed'
      ? html`<span class="type-actions"><${ConfirmButton} small kind="primary" label="Reset" confirmLabel="Close breaker" onConfirm=${() => onReset(breaker.task_type, breaker.scope)} /></span>`
      : null}
    ${breaker.state !== 'closed'
      ? html`<p class="type-detail muted small">${breaker.consecutive_failures} failures${breaker.reopens_at ? html` · probes <${RelativeTime} iso=${breaker.reopens_at} />` : ''}</p>`
      : null}
  </li>`;
}

/**
 * Each task type's circuit breaker (opened by failures) and pause (set by an operator): both stop claims.
 * A concurrency limit (set by an operator) only caps how many of its tasks run at once.
 */
function TypeStatesPanel({ breakers, types, anyLive, canReset, canPause, onReset, onPause, onResume, onLimit }) {
  const { data, error, loading } = breakers;
  const byName = new Map();
  const rowOf = (taskType) => byName.get(taskType) ?? byName.set(taskType, { taskType, breaker: null, type: null, scopes: [] }).get(taskType);
  // A scoped breaker (a webhook's destination host) is listed under its type's row.
  for (const b of data ?? []) {
    if (b.scope === null || b.scope === undefined) rowOf(b.task_type).breaker = b;
    else rowOf(b.task_type).scopes.push(b);
  }
  for (const t of types ?? []) rowOf(t.task_type).type = t;
  const rows = [...byName.values()].sort((a, b) => a.taskType.localeCompare(b.taskType));
  const notClosed = (b) => b && b.state !== 'closed';
  const open = rows.reduce((sum, r) => sum + (notClosed(r.breaker) ? 1 : 0) + r.scopes.filter(notClosed).length, 0);
  const paused = rows.filter((r) => r.type?.paused).length;
  const held = [open > 0 ? `${open} breaker${open === 1 ? '' : 's'} not closed` : null, paused > 0 ? `${paused} paused` : null].filter(Boolean);
  return html`<section class="card" aria-labelledby="type-states-title">
    <h2 id="type-states-title">Task types</h2>
    ${loading && !data ? html`<${Loading} />` : null}
    <${ErrorNotice} error=${error} title="Could not load breakers" />
    ${data && rows.length === 0 ? html`<${Empty}>No task types yet.<//>` : null}
    ${data && rows.length > 0
      ? html`<p class="muted small">${held.length === 0
          ? 'Circuit breakers all closed, none paused: every task type is being claimed.'
          : `${held.join(', ')}: their tasks wait without spending attempts.`}</p>
        <ul class="breaker-list" role="list">
          ${rows.map((row) => html`<${TypeRow} key=${row.taskType} row=${row} anyLive=${anyLive} canReset=${canReset} canPause=${canPause} onReset=${onReset} onPause=${onPause} onResume=${onResume} onLimit=${onLimit} />`)}
        </ul>`
      : null}
  </section>`;
}

/**
 * Waiting tasks nobody will run: the types no live worker takes, by name; or, with no worker running
 * at all, one calm line rather than an alarm per type.
 */
function WorkerCoverageNotice({ stats }) {
  if (!stats || stats.live_workers === undefined) return null;
  const waiting = stats.pending + stats.scheduled + stats.retrying;
  if (stats.live_workers === 0) {
    return waiting === 0
      ? null
      : html`<p class="notice notice-info" role="status" data-testid="no-workers-notice">No worker is running: ${formatNumber(waiting)} waiting task${waiting === 1 ? '' : 's'} will start when one does.</p>`;
  }
  const unhandled = stats.unhandled_types ?? [];
  if (unhandled.length === 0) return null;
  return html`<div class="notice notice-warn" role="status" data-testid="unhandled-types-notice">
    <strong>No live worker handles ${unhandled.length === 1 ? 'this task type' : 'these task types'}:</strong>
    ${unhandled.map((u, i) => html`${i > 0 ? ', ' : ' '}<a href=${href('/tasks', { type: u.task_type })}>${u.task_type}</a> (${formatNumber(u.waiting)} waiting)`)}.
    Their tasks wait until a worker with a handler for them starts.
  </div>`;
}

function ByTypePanel({ stats }) {
  const types = Object.entries(stats?.by_type ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const unhandled = new Set((stats?.unhandled_types ?? []).map((u) => u.task_type));
  return html`<section class="card span-2" aria-labelledby="types-title">
    <h2 id="types-title">By task type</h2>
    ${types.length === 0
      ? html`<${Empty}>No tasks yet. <a href=${href('/create')}>Create one</a>.<//>`
      : html`<div class="table-wrap"><table class="table compact">
          <thead><tr><th scope="col">Type</th>${STATUSES.map((s) => html`<th scope="col" class="num"><${StatusBadge} status=${s} /></th>`)}</tr></thead>
          <tbody>${types.map(([type, counts]) => html`<tr>
            <th scope="row"><a href=${href('/tasks', { type })}>${type}</a>${unhandled.has(type) ? html` <span class="badge type-unhandled" title="No live worker handles this type">no worker</span>` : null}</th>
            ${STATUSES.map((s) => html`<td class="num">${counts[s] ? html`<a href=${href('/tasks', { type, status: s })}>${formatNumber(counts[s])}</a>` : html`<span class="muted">0</span>`}</td>`)}
          </tr>`)}</tbody>
        </table></div>`}
  </section>`;
}

export function OverviewPage() {
  const { user, stats: liveStats, types, reloadTypes, notify } = useApp();
  const moderator = hasRole(user, 'moderator');
  const admin = hasRole(user, 'admin');
  const initial = useLoad(async () => ({ ...(await api('GET', '/tasks/stats')).data, received_at: Date.now() }), []);
  // The live stream's stats are newer than the first load, and carry the per-minute series.
  const stats = liveStats ?? initial.data;
  const workers = useLoad(() => (moderator ? loadWorkers() : Promise.resolve(null)), [moderator]);
  const ready = useLoad(async () => (moderator ? null : (await api('GET', '/health/ready').catch(() => null))?.data?.checks?.workers?.live ?? null), [moderator]);
  const breakers = useLoad(async () => (await api('GET', '/circuit-breakers')).data, []);
  const reloadWorkers = useThrottled(() => workers.reload(), 1500);
  // The types carry the pause state; the list the shell loaded at sign-in may be old by now.
  const refreshTypes = useThrottled(() => void reloadTypes(), 1000);
  useEffect(() => {
    void reloadTypes();
  }, [reloadTypes]);

  useLive('monitor', (hint) => {
    if (hint.workers) reloadWorkers();
    // Sent when breakers or paused types change (and with every worker change).
    if (hint.breakers) {
      void breakers.reload();
      refreshTypes();
    }
  });
  // A limited type's running count moves with its tasks: the live stats say when (the viewer's own tasks,
  // for role user), and the types are loaded again for the count across every worker.
  const limited = (types ?? []).filter((t) => t.max_running !== null && t.max_running !== undefined).map((t) => t.task_type);
  const runningKey = liveStats && limited.length > 0 ? JSON.stringify(limited.map((t) => [t, liveStats.by_type?.[t]?.running ?? 0])) : '';
  useEffect(() => {
    if (runningKey) refreshTypes();
  }, [runningKey, refreshTypes]);
  useLive('reconnected', () => {
    reloadWorkers();
    void breakers.reload();
    refreshTypes();
  });
  useLive('tasks', (event) => {
    if (moderator && event.tasks.some((t) => t.status === 'running' || t.started_at)) reloadWorkers();
  });

  const reset = async (taskType, scope = null) => {
    try {
      await api('POST', `/circuit-breakers/${encodeURIComponent(taskType)}/reset${scope === null ? '' : `?scope=${encodeURIComponent(scope)}`}`);
      notify(`Breaker for ${scope === null ? taskType : `${taskType} @ ${scope}`} closed`, 'success');
      await breakers.reload();
    } catch (error) {
      notify(error.message, 'error');
    }
  };

  const pause = async (taskType, reason) => {
    try {
      await api('POST', `/tasks/types/${encodeURIComponent(taskType)}/pause`, { body: reason ? { reason } : {} });
      notify(`${taskType} is paused: its tasks wait until it is resumed`, 'success');
      await reloadTypes();
      return true;
    } catch (error) {
      notify(error.message, 'error');
      return false;
    }
  };
  const resume = async (taskType) => {
    try {
      await api('POST', `/tasks/types/${encodeURIComponent(taskType)}/resume`);
      notify(`${taskType} is resumed: workers claim its tasks again`, 'success');
      await reloadTypes();
      return true;
    } catch (error) {
      notify(error.message, 'error');
      return false;
    }
  };

  /** Sets the type's limit, or removes it (null). A refused value comes back for the form to show. */
  const limitType = async (taskType, maxRunning) => {
    const path = `/tasks/types/${encodeURIComponent(taskType)}/limit`;
    try {
      if (maxRunning === null) {
        await api('DELETE', path);
        notify(`${taskType} has no limit now: workers claim its tasks freely`, 'success');
      } else {
        const { data } = await api('PUT', path, { body: { max_running: maxRunning } });
        notify(`${taskType} is limited to ${formatNumber(data.max_running)} at once: the rest wait their turn`, 'success');
      }
      await reloadTypes();
      return { ok: true };
    } catch (error) {
      // A value the API refuses is explained by the field; anything else (rights gone, server away) in a notice.
      if (error.status === 400) return { ok: false, problem: error.message };
      notify(error.message, 'error');
      return { ok: false };
    }
  };

  const liveWorkers = moderator ? (workers.data ? workers.data.workers.filter((w) => w.live).length : null) : ready.data;
  return html`<div class="page">
    <${PageTitle}>Overview<//>
    <p class="lede">${stats?.scope === 'own' || (!moderator && stats) ? 'Your tasks, as they happen.' : 'Every task in this Conveyor, as it happens.'}</p>
    <${ErrorNotice} error=${initial.error} title="Could not load the stats" />
    ${!stats && initial.loading ? html`<${Loading} />` : null}
    <${StatusCards} stats=${stats} />
    <${WorkerCoverageNotice} stats=${stats} />
    <div class="grid">
      <${QueuePanel} stats=${stats} liveWorkers=${liveWorkers} />
      <${TypeStatesPanel} breakers=${breakers} types=${types} anyLive=${(stats?.live_workers ?? 0) > 0} canReset=${admin} canPause=${moderator} onReset=${reset} onPause=${pause} onResume=${resume} onLimit=${limitType} />
      <${ThroughputPanel} stats=${stats} />
      ${moderator ? html`<${WorkersPanel} state=${workers} />` : null}
      <${ByTypePanel} stats=${stats} />
    </div>
  </div>`;
}
