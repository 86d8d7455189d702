import { useEffect, useState } from 'preact/hooks';
import { ConfirmButton, Empty, ErrorNotice, Loading, PageTitle, RelativeTime } from '../components/ui.js';
import { api, forEachLimited, query } from '../lib/api.js';
import { useApp, useLive, useLoad, useThrottled } from '../lib/app-context.js';
import { formatNumber, formatTotal, shortId } from '../lib/format.js';
import { html } from '../lib/html.js';
import { href, navigate } from '../lib/router.js';

/** The dead letter is read in full up to this many tasks, to group them; beyond it the groups say so. */
const MAX_LOADED = 1000;

async function loadDeadLetter(taskType) {
  const tasks = [];
  let cursor;
  let total = null;
  let totalIsExact = true;
  do {
    const page = await api('GET', `/tasks/dead-letter${query({ task_type: taskType, limit: 100, cursor })}`);
    tasks.push(...page.data);
    cursor = page.pagination.next_cursor;
    total = page.pagination.total;
    totalIsExact = page.pagination.total_is_exact !== false;
  } while (cursor && tasks.length < MAX_LOADED);
  return { tasks, total, totalIsExact };
}

/** The first line of an error with its numbers masked, so "attempt 2 of 5" and "attempt 3 of 5" group together. */
function errorKey(error) {
  return (error ?? '(no error recorded)').split('\n')[0].replace(/\d+/g, '#').slice(0, 240);
}

function groupTasks(tasks) {
  const groups = new Map();
  for (const task of tasks) {
    const key = `${task.task_type}\u0000${errorKey(task.last_error)}`;
    if (!groups.has(key)) groups.set(key, { key, taskType: task.task_type, example: task.last_error ?? '(no error recorded)', tasks: [] });
    groups.get(key).tasks.push(task);
  }
  return [...groups.values()].sort((a, b) => b.tasks.length - a.tasks.length || a.taskType.localeCompare(b.taskType));
}

function Group({ group, busy, onBulk, onOne }) {
  const n = group.tasks.length;
  const latest = group.tasks.reduce((a, t) => (t.updated_at > a ? t.updated_at : a), '');
  const headingId = `g-${group.tasks[0].id}`;
  return html`<section class="card dl-group" aria-labelledby=${headingId} data-task-type=${group.taskType}>
    <div class="dl-head">
      <div>
        <h2 id=${headingId}><span class="mono">${group.taskType}</span> <span class="count-pill">${formatNumber(n)} task${n === 1 ? '' : 's'}</span></h2>
        <pre class="error-text">${group.example.split('\n')[0]}</pre>
        <p class="muted small">Last failed <${RelativeTime} iso=${latest} /></p>
      </div>
      <div class="actions" role="group" aria-label=${`Actions for ${n} ${group.taskType} tasks`}>
        <button type="button" class="btn btn-primary" disabled=${busy} onClick=${() => onBulk('retry', group.tasks)}>${n === 1 ? 'Retry' : `Retry all ${n}`}</button>
        <${ConfirmButton} label=${n === 1 ? 'Delete' : `Delete all ${n}`} confirmLabel=${`Yes, delete ${n}`} disabled=${busy} onConfirm=${() => onBulk('delete', group.tasks)} />
      </div>
    </div>
    <details>
      <summary>Show ${n === 1 ? 'the task' : `the ${n} tasks`}</summary>
      <ul class="dl-tasks" role="list">
        ${group.tasks.map((t) => html`<li key=${t.id} data-task-id=${t.id}>
          <a class="mono" href=${href(`/tasks/${t.id}`)} aria-label=${`Task ${t.id}`}>${shortId(t.id)}</a>
          <span class="muted small">${t.current_attempt}/${t.max_attempts} attempts · failed <${RelativeTime} iso=${t.updated_at} /></span>
          <span class="row-actions">
            <button type="button" class="btn btn-small" disabled=${busy} onClick=${() => onOne('retry', t)}>Retry</button>
            <${ConfirmButton} small label="Delete" disabled=${busy} onConfirm=${() => onOne('delete', t)} />
          </span>
        </li>`)}
      </ul>
    </details>
  </section>`;
}

export function DeadLetterPage({ params }) {
  const { types, notify } = useApp();
  const taskType = params.get('type') ?? '';
  const data = useLoad(() => loadDeadLetter(taskType), [taskType]);
  const [progress, setProgress] = useState(null);
  const reload = useThrottled(() => !progress && data.reload(), 1000);

  useEffect(() => {
    document.title = 'Dead letter · Conveyor';
  }, []);
  // New failures join their group; retried and deleted ones leave it.
  useLive('tasks', (event) => {
    const shown = new Set((data.data?.tasks ?? []).map((t) => t.id));
    if (event.tasks.some((t) => t.status === 'failed' || shown.has(t.id)) || event.deleted.some((id) => shown.has(id))) reload();
  });

  useLive('reconnected', reload);

  const run = async (verb, tasks) => {
    const label = verb === 'retry' ? 'Retrying' : 'Deleting';
    setProgress({ label, done: 0, total: tasks.length });
    const failures = await forEachLimited(
      tasks,
      (t) => (verb === 'retry' ? api('POST', `/tasks/${t.id}/retry`) : api('DELETE', `/tasks/${t.id}`)),
      { onProgress: (done, total) => setProgress({ label, done, total }) },
    );
    setProgress(null);
    const ok = tasks.length - failures.length;
    const past = verb === 'retry' ? 'queued to run again' : 'deleted';
    if (failures.length === 0) notify(`${ok} task${ok === 1 ? '' : 's'} ${past}`, 'success');
    else notify(`${ok} ${past}; ${failures.length} could not be: ${failures[0].error.message}`, 'error');
    await data.reload();
  };

  const groups = data.data ? groupTasks(data.data.tasks) : [];
  const loaded = data.data?.tasks.length ?? 0;
  const total = data.data?.total ?? loaded;
  const typeNames = (types ?? []).map((t) => t.task_type);
  if (taskType && !typeNames.includes(taskType)) typeNames.push(taskType);

  return html`<div class="page">
    <${PageTitle}>Dead letter<//>
    <p class="lede">Tasks that failed for good: their attempts ran out, or their error was permanent. Grouped by type and error.</p>
    <div class="filters">
      <div class="field">
        <label for="dl-type">Type</label>
        <select id="dl-type" value=${taskType} onChange=${(e) => navigate('/dead-letter', { type: e.currentTarget.value }, { replace: true })}>
          <option value="">Every type</option>
          ${typeNames.map((name) => html`<option value=${name}>${name}</option>`)}
        </select>
      </div>
      ${groups.length > 1
        ? html`<div class="actions bulk-all">
            <button type="button" class="btn" disabled=${!!progress} onClick=${() => run('retry', data.data.tasks)}>Retry all ${formatNumber(loaded)}</button>
            <${ConfirmButton} label=${`Delete all ${formatNumber(loaded)}`} confirmLabel=${`Yes, delete ${formatNumber(loaded)}`} disabled=${!!progress} onConfirm=${() => run('delete', data.data.tasks)} />
          </div>`
        : null}
    </div>
    <div role="status" aria-live="polite" class="bulk-progress">
      ${progress ? html`<span class="spinner" aria-hidden="true"></span> ${progress.label} ${progress.done} of ${progress.total}…` : null}
    </div>
    <${ErrorNotice} error=${data.error} title="Could not load the dead letter" />
    ${data.loading && !data.data ? html`<${Loading} />` : null}
    ${data.data && total > loaded ? html`<p class="notice notice-info">Showing the newest ${formatNumber(loaded)} of ${formatTotal(total, data.data?.totalIsExact)} failed tasks; act on these, then the rest appear.</p>` : null}
    ${data.data && groups.length === 0 ? html`<${Empty}>The dead letter is empty${taskType ? ` for ${taskType}` : ''}. Nothing failed for good.<//>` : null}
    ${groups.map((g) => html`<${Group} key=${g.key} group=${g} busy=${!!progress} onBulk=${run} onOne=${(verb, t) => run(verb, [t])} />`)}
  </div>`;
}
