import { useEffect, useRef, useState } from 'preact/hooks';
import { ConfirmButton, Empty, ErrorNotice, Loading, PageTitle, PRIORITIES, RelativeTime } from '../components/ui.js';
import { api } from '../lib/api.js';
import { useApp, useLive, useLoad } from '../lib/app-context.js';
import { formatDateTime, shortId } from '../lib/format.js';
import { html } from '../lib/html.js';
import { href } from '../lib/router.js';
import { primeTask } from '../lib/task-cache.js';

const FORM_FIELDS = ['name', 'cron', 'timezone', 'task_type', 'payload', 'priority'];
const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;
/** setTimeout's longest wait (about 24.8 days); a longer one fires at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const OVERDUE_POLL_MS = 5000;

const CRON_HINT = html`<code>0 3 * * *</code> is 03:00 every day; six fields add seconds; <code>@hourly</code>, <code>@daily</code>`;
const ZONE_HINT = 'The cron is read in this IANA time zone (UTC, Europe/Berlin).';

const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The form's field an API error names: `payload.delay_ms` belongs to the payload editor. */
function errorFor(error, field) {
  const named = error?.field;
  return named && (named === field || named.startsWith(`${field}.`) || named.startsWith(`${field}[`)) ? error.message : null;
}

function ScheduleRow({ schedule: s, onChange, onRun, onDelete }) {
  const [busy, setBusy] = useState(false);
  const act = async (action) => {
    setBusy(true);
    try {
      await action();
    } finally {
      setBusy(false);
    }
  };
  return html`<tr data-schedule-id=${s.id} class=${s.enabled ? '' : 'inactive'}>
    <th scope="row" data-label="Name">${s.name}</th>
    <td data-label="Task type">${s.task_type}</td>
    <td data-label="When"><code>${s.cron}</code> <span class="muted small">${s.timezone}</span></td>
    <td data-label="Next run">
      ${s.next_run_at
        ? html`<${RelativeTime} iso=${s.next_run_at} /> <span class="muted small next-abs">${formatDateTime(s.next_run_at)}</span>`
        : html`<span class="muted">—</span>`}
    </td>
    <td data-label="Last run">
      ${s.last_task_id
        ? html`<a href=${href(`/tasks/${s.last_task_id}`)} aria-label=${`Last task of ${s.name}: ${s.last_task_id}`}><${RelativeTime} iso=${s.last_run_at} /></a>`
        : s.last_run_at ? html`<${RelativeTime} iso=${s.last_run_at} />` : html`<span class="muted">never</span>`}
      ${s.last_skipped_at
        ? html`<div class="small bad schedule-skipped">skipped <${RelativeTime} iso=${s.last_skipped_at} />: ${s.last_skip_reason}</div>`
        : null}
    </td>
    <td data-label="State">
      <span class=${`badge ${s.enabled ? 'schedule-active' : 'schedule-paused'}`}>${s.enabled ? 'active' : 'paused'}</span>
    </td>
    <td data-label="Actions" class="row-end">
      <span class="actions">
        <button type="button" class="btn btn-small" disabled=${busy} onClick=${() => act(() => onChange({ enabled: !s.enabled }))}>${s.enabled ? 'Pause' : 'Resume'}</button>
        <button type="button" class="btn btn-small" disabled=${busy} onClick=${() => act(onRun)}>Run now</button>
        <${ConfirmButton} small label="Delete" confirmLabel=${`Yes, delete ${s.name}`} disabled=${busy} onConfirm=${onDelete} />
      </span>
    </td>
  </tr>`;
}

/** A field's hint and, after a refused submit, the API's message for it; the input is `children`. */
function Field({ id, label, hint, error, children }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${children}
    ${hint ? html`<small id=${`${id}-hint`} class="hint">${hint}</small>` : null}
    ${error ? html`<small id=${`${id}-error`} class="hint bad">${error}</small>` : null}
  </div>`;
}

function ScheduleForm({ onCreated }) {
  const { types, typesError } = useApp();
  const [values, setValues] = useState({ name: '', cron: '', timezone: 'UTC', task_type: '', payload: '', priority: 'normal' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const inputs = useRef({});
  const notice = useRef(null);
  const set = (field) => (event) => setValues((v) => ({ ...v, [field]: event.currentTarget.value }));
  const type = types?.find((t) => t.task_type === values.task_type) ?? null;

  useEffect(() => {
    if (types?.length && !type) setValues((v) => ({ ...v, task_type: types[0].task_type }));
  }, [types, type]);
  useEffect(() => {
    // Only a change of type refills the editor, as on the New task page.
    if (type) setValues((v) => ({ ...v, payload: JSON.stringify(type.examples?.[0] ?? {}, null, 2) }));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [values.task_type, types === null]);
  useEffect(() => {
    if (!error) return;
    const field = FORM_FIELDS.find((f) => errorFor(error, f));
    (field ? inputs.current[field] : notice.current)?.focus();
  }, [error]);

  const submit = async (event) => {
    event.preventDefault();
    let payload;
    try {
      payload = JSON.parse(values.payload);
    } catch (e) {
      setError({ field: 'payload', message: `The payload is not valid JSON: ${e.message}` });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { data } = await api('POST', '/schedules', { body: { ...values, name: values.name.trim(), cron: values.cron.trim(), timezone: values.timezone.trim(), payload } });
      setValues((v) => ({ ...v, name: '', cron: '' }));
      onCreated(data);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  // The props every control shares; a select's input event fires on each change too.
  const input = (field, hasHint = true) => {
    const message = errorFor(error, field);
    const describedBy = [hasHint ? `sch-${field}-hint` : null, message ? `sch-${field}-error` : null].filter(Boolean).join(' ');
    return {
      id: `sch-${field}`,
      name: field,
      value: values[field],
      ref: (el) => (inputs.current[field] = el),
      onInput: set(field),
      'aria-invalid': message ? 'true' : 'false',
      'aria-describedby': describedBy || undefined,
    };
  };
  const unplaced = error && !FORM_FIELDS.some((f) => errorFor(error, f));
  const zoneHint = BROWSER_ZONE && BROWSER_ZONE !== values.timezone
    ? html`${ZONE_HINT} <button type="button" class="link" onClick=${() => setValues((v) => ({ ...v, timezone: BROWSER_ZONE }))}>Use ${BROWSER_ZONE}</button>`
    : ZONE_HINT;

  return html`<section class="card mt" aria-labelledby="new-schedule-heading">
    <h2 id="new-schedule-heading">New schedule</h2>
    <${ErrorNotice} error=${typesError} title="Could not load the task types" />
    ${types && types.length === 0 ? html`<p class="notice notice-info">No task types are registered yet. Start a worker (<code>conveyor work</code>) and its types appear here.</p>` : null}
    <form onSubmit=${submit}>
      <div class="grid">
        <div>
          <${Field} id="sch-name" label="Name" hint="Letters, digits, _ . : - (nightly-report)" error=${errorFor(error, 'name')}>
            <input ...${input('name')} maxlength="128" autocomplete="off" spellcheck=${false} />
          <//>
          <${Field} id="sch-cron" label="Cron" hint=${CRON_HINT} error=${errorFor(error, 'cron')}>
            <input ...${input('cron')} class="mono" maxlength="200" autocomplete="off" spellcheck=${false} placeholder="0 3 * * *" />
          <//>
          <${Field} id="sch-timezone" label="Time zone" hint=${zoneHint} error=${errorFor(error, 'timezone')}>
            <input ...${input('timezone')} maxlength="64" autocomplete="off" spellcheck=${false} />
          <//>
          <${Field} id="sch-priority" label="Priority" error=${errorFor(error, 'priority')}>
            <select ...${input('priority', false)}>
              ${PRIORITIES.map((p) => html`<option value=${p}>${p}</option>`)}
            </select>
          <//>
        </div>
        <div>
          <${Field} id="sch-task_type" label="Task type" hint=${type?.description} error=${errorFor(error, 'task_type')}>
            <select ...${input('task_type', Boolean(type?.description))}>
              ${(types ?? []).map((t) => html`<option value=${t.task_type}>${t.task_type}</option>`)}
            </select>
          <//>
          <${Field} id="sch-payload" label="Payload (JSON)" hint="Every task of this schedule gets it; checked against the type\u2019s schema." error=${errorFor(error, 'payload')}>
            <textarea ...${input('payload')} class="code" rows="8" spellcheck=${false} autocomplete="off"></textarea>
          <//>
        </div>
      </div>
      ${unplaced
        ? html`<div class="notice notice-error" role="alert" tabindex="-1" ref=${notice}><strong>The schedule was not created</strong><span>${error.message}</span></div>`
        : null}
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled=${busy || !values.task_type}>${busy ? 'Creating…' : 'Create schedule'}</button>
      </div>
    </form>
  </section>`;
}

/** Recurring schedules: each firing creates one task from the schedule's template. */
export function SchedulesPage() {
  const { notify } = useApp();
  const list = useLoad(() => api('GET', '/schedules'), []);
  const schedules = list.data?.data ?? null;

  useEffect(() => {
    document.title = 'Schedules · Conveyor';
  }, []);
  useLive('reconnected', () => void list.reload());

  // No live event tells of a firing: read the list again just after the soonest next run, and every
  // few seconds while one is overdue (no worker fired it yet).
  const soonest = (schedules ?? []).reduce((min, s) => (s.next_run_at && (!min || s.next_run_at < min) ? s.next_run_at : min), null);
  useEffect(() => {
    if (!soonest) return undefined;
    const wait = Date.parse(soonest) - Date.now();
    const timer = setTimeout(() => void list.reload(), wait > 0 ? Math.min(MAX_TIMEOUT_MS, wait + 1500) : OVERDUE_POLL_MS);
    return () => clearTimeout(timer);
  }, [list.data, soonest, list.reload]);

  const replace = (next) => list.setData((current) => current && { ...current, data: current.data.map((s) => (s.id === next.id ? next : s)) });
  const remove = (id) => list.setData((current) => current && { ...current, data: current.data.filter((s) => s.id !== id) });

  const change = async (schedule, changes) => {
    try {
      const { data } = await api('PATCH', `/schedules/${schedule.id}`, { body: changes });
      replace(data);
      notify(`${data.name} is ${data.enabled ? 'active again' : 'paused'}`, 'success');
    } catch (error) {
      notify(error.message, 'error');
    }
  };
  const run = async (schedule) => {
    try {
      const { data: task } = await api('POST', `/schedules/${schedule.id}/run`);
      primeTask(task);
      notify(html`Created task <a href=${href(`/tasks/${task.id}`)} aria-label=${`Task ${task.id}`}>${shortId(task.id)}</a> from ${schedule.name}`, 'success');
    } catch (error) {
      notify(error.message, 'error');
    }
  };
  const del = async (schedule) => {
    try {
      await api('DELETE', `/schedules/${schedule.id}`);
      remove(schedule.id);
      notify(`Deleted ${schedule.name}; the tasks it created stay`, 'success');
    } catch (error) {
      notify(error.message, 'error');
    }
  };
  const created = (schedule) => {
    list.setData((current) => current && { ...current, data: [...current.data, schedule].sort(byName) });
    notify(`Created ${schedule.name}`, 'success');
  };

  return html`<div class="page">
    <${PageTitle}>Schedules<//>
    <p class="lede">Each time a schedule fires, a worker creates one task from it. Times are shown in your time zone (${BROWSER_ZONE}).</p>
    <${ErrorNotice} error=${list.error} title="Could not load the schedules" />
    ${list.loading && !list.data ? html`<${Loading} label="Loading schedules…" />` : null}
    ${schedules && schedules.length === 0 ? html`<${Empty}>No schedules yet.<//>` : null}
    ${schedules && schedules.length > 0
      ? html`<div class="table-wrap">
          <table class="table schedules-table">
            <thead><tr>
              <th scope="col">Name</th><th scope="col">Task type</th><th scope="col">When</th><th scope="col">Next run</th><th scope="col">Last run</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th>
            </tr></thead>
            <tbody>
              ${schedules.map((s) => html`<${ScheduleRow} key=${s.id} schedule=${s}
                onChange=${(changes) => change(s, changes)} onRun=${() => run(s)} onDelete=${() => del(s)} />`)}
            </tbody>
          </table>
        </div>`
      : null}
    <${ScheduleForm} onCreated=${created} />
  </div>`;
}
