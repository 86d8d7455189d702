import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ErrorNotice, Loading, PageTitle, PRIORITIES } from '../components/ui.js';
import { api } from '../lib/api.js';
import { useApp } from '../lib/app-context.js';
import { formatDuration, localInputValue } from '../lib/format.js';
import { html } from '../lib/html.js';
import { navigate } from '../lib/router.js';
import { primeTask } from '../lib/task-cache.js';

/** A payload that satisfies the schema's shape, for types that ship no example. */
function skeleton(schema) {
  if (!schema || typeof schema !== 'object') return null;
  const variant = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (variant) return skeleton(variant);
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const out = {};
      for (const name of schema.required ?? []) out[name] = skeleton(schema.properties?.[name]);
      return out;
    }
    case 'array':
      return [];
    case 'string':
      return schema.format === 'email' ? 'user@example.com' : '';
    case 'integer':
    case 'number':
      return schema.minimum ?? 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}

function prefill(type, index) {
  if (!type) return '';
  const example = type.examples?.[index];
  return JSON.stringify(example !== undefined ? example : skeleton(type.payload_schema) ?? {}, null, 2);
}

function describeType(schema) {
  if (!schema) return 'any';
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return variants.map(describeType).join(' or ');
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (schema.type === 'array') return `list of ${describeType(schema.items)}`;
  return schema.format ? `${schema.type} (${schema.format})` : (schema.type ?? 'any');
}

/** The payload's fields, from the type's JSON Schema: name, type, required, description. */
function SchemaFields({ schema }) {
  const properties = Object.entries(schema?.properties ?? {});
  if (properties.length === 0) return html`<p class="muted small">${schema ? 'Free-form payload.' : 'This type accepts any JSON payload.'}</p>`;
  const required = new Set(schema.required ?? []);
  return html`<dl class="schema-fields">
    ${properties.map(([name, prop]) => html`<div>
      <dt><code>${name}</code>${required.has(name) ? html` <span class="req">required</span>` : null}</dt>
      <dd><span class="muted">${describeType(prop)}</span>${prop.description ? html` — ${prop.description}` : null}</dd>
    </div>`)}
  </dl>`;
}

export function CreatePage({ params }) {
  const { types, typesError, reloadTypes, notify } = useApp();
  const [typeName, setTypeName] = useState(params.get('type') ?? '');
  const [example, setExample] = useState(0);
  const [payload, setPayload] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [priority, setPriority] = useState('normal');
  const errorRef = useRef(null);
  const type = types?.find((t) => t.task_type === typeName) ?? null;

  useEffect(() => {
    document.title = 'New task · Conveyor';
    void reloadTypes();
  }, [reloadTypes]);
  useEffect(() => {
    if (types && !types.some((t) => t.task_type === typeName) && types.length > 0) setTypeName((types.find((t) => t.task_type === 'email') ?? types[0]).task_type);
  }, [types, typeName]);
  useEffect(() => {
    setExample(0);
    setPayload(prefill(type, 0));
    // Only a change of type refills the editor; later type-list refreshes keep the user's edits.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [typeName, types === null]);
  useEffect(() => {
    if (error) errorRef.current?.focus();
  }, [error]);

  const parsed = useMemo(() => {
    try {
      return { ok: true, value: JSON.parse(payload) };
    } catch (e) {
      return { ok: false, message: e.message };
    }
  }, [payload]);

  const submit = async (event) => {
    event.preventDefault();
    if (!parsed.ok) {
      setError({ message: `The payload is not valid JSON: ${parsed.message}`, field: 'payload' });
      return;
    }
    const form = new FormData(event.currentTarget);
    const runAt = String(form.get('run_at') ?? '');
    const maxAttempts = String(form.get('max_attempts') ?? '');
    const key = String(form.get('idempotency_key') ?? '').trim();
    const body = { task_type: typeName, payload: parsed.value, priority };
    if (runAt) body.scheduled_at = new Date(runAt).toISOString();
    if (maxAttempts) body.max_attempts = Number(maxAttempts);
    setBusy(true);
    setError(null);
    try {
      const { data } = await api('POST', '/tasks', { body, headers: key ? { 'idempotency-key': key } : {} });
      notify(`Created ${data.task_type} task${data.status === 'scheduled' ? ', scheduled' : ''}`, 'success');
      primeTask(data);
      navigate(`/tasks/${data.id}`);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  const payloadInvalid = !parsed.ok || (error?.field ?? '').startsWith('payload');
  if (!types && !typesError) return html`<div class="page"><${PageTitle}>New task<//><${Loading} /></div>`;
  if (types && types.length === 0) {
    return html`<div class="page"><${PageTitle}>New task<//>
      <p class="notice notice-info">No task types are registered yet. Start a worker (<code>conveyor work</code>) and its types appear here.</p></div>`;
  }
  return html`<div class="page">
    <${PageTitle}>New task<//>
    <${ErrorNotice} error=${typesError} title="Could not load the task types" />
    <form class="create-form" onSubmit=${submit}>
      <div class="grid">
        <section class="card span-2" aria-labelledby="what-heading">
          <h2 id="what-heading" class="sr-only">Type and payload</h2>
          <div class="field">
            <label for="task-type">Task type</label>
            <select id="task-type" name="task_type" value=${typeName} onChange=${(e) => setTypeName(e.currentTarget.value)} aria-describedby="type-help">
              ${(types ?? []).map((t) => html`<option value=${t.task_type}>${t.task_type}</option>`)}
            </select>
            <small id="type-help" class="hint">${type?.description ?? ''}${type ? ` Times out after ${formatDuration(type.timeout_ms)}.` : ''}</small>
            ${type && !type.has_live_worker ? html`<p class="notice notice-warn small">No live worker handles ${type.task_type} right now: the task will wait until one starts.</p>` : null}
            ${type?.paused ? html`<p class="notice notice-info small">This task type is paused: tasks are accepted but wait until it is resumed${type.paused_reason ? ` (${type.paused_reason})` : ''}.</p>` : null}
          </div>
          <div class="field">
            <div class="label-row">
              <label for="payload">Payload (JSON)</label>
              <span class="examples">
                ${(type?.examples ?? []).map((_, i) => html`<button type="button" class=${`chip${example === i ? ' chip-on' : ''}`} aria-pressed=${example === i} onClick=${() => {
                  setExample(i);
                  setPayload(prefill(type, i));
                }}>Example ${i + 1}</button>`)}
                <button type="button" class="chip" disabled=${!parsed.ok} onClick=${() => parsed.ok && setPayload(JSON.stringify(parsed.value, null, 2))}>Format</button>
              </span>
            </div>
            <textarea id="payload" name="payload" class="code" rows="12" spellcheck="false" autocomplete="off" value=${payload}
              aria-invalid=${payloadInvalid ? 'true' : 'false'} aria-describedby="payload-status"
              onInput=${(e) => setPayload(e.currentTarget.value)}></textarea>
            <small id="payload-status" class=${parsed.ok ? 'hint ok' : 'hint bad'}>${parsed.ok ? 'Valid JSON. The server checks it against the type\u2019s schema.' : `Not valid JSON yet: ${parsed.message}`}</small>
          </div>
        </section>
        <section class="card" aria-labelledby="options-heading">
          <h2 id="options-heading">Options</h2>
          <div class="field">
            <label for="priority">Priority</label>
            <select id="priority" name="priority" value=${priority} onChange=${(e) => setPriority(e.currentTarget.value)}>
              ${PRIORITIES.map((p) => html`<option value=${p}>${p}</option>`)}
            </select>
          </div>
          <div class="field">
            <label for="run-at">Run at <span class="muted">(optional)</span></label>
            <input id="run-at" name="run_at" type="datetime-local" min=${localInputValue(new Date())} aria-describedby="run-at-hint" />
            <small id="run-at-hint" class="hint">Empty runs it now. Your local time (${Intl.DateTimeFormat().resolvedOptions().timeZone}).</small>
          </div>
          <div class="field">
            <label for="max-attempts">Max attempts <span class="muted">(optional)</span></label>
            <input id="max-attempts" name="max_attempts" type="number" min="1" max="1000" inputmode="numeric" placeholder="default" />
          </div>
          <div class="field">
            <label for="idem">Idempotency key <span class="muted">(optional)</span></label>
            <input id="idem" name="idempotency_key" maxlength="200" autocomplete="off" aria-describedby="idem-hint" />
            <small id="idem-hint" class="hint">Sending the same key again returns the first task instead of a new one.</small>
          </div>
        </section>
        <section class="card" aria-labelledby="fields-heading">
          <h2 id="fields-heading">Payload fields</h2>
          <${SchemaFields} schema=${type?.payload_schema ?? null} />
        </section>
      </div>
      ${error
        ? html`<div class="notice notice-error" role="alert" tabindex="-1" ref=${errorRef}>
            <strong>The task was not created</strong>
            <span>${error.message}${error.field && !error.message.includes(error.field) ? html` (<code>${error.field}</code>)` : null}</span>
          </div>`
        : null}
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled=${busy || !typeName}>${busy ? 'Creating…' : 'Create task'}</button>
      </div>
    </form>
  </div>`;
}
