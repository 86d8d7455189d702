import { useEffect, useRef, useState } from 'preact/hooks';
import { Empty, ErrorNotice, Loading, PageTitle, PRIORITIES, PriorityBadge, Progress, RelativeTime, STATUSES, StatusBadge } from '../components/ui.js';
import { api, query } from '../lib/api.js';
import { useApp, useLive } from '../lib/app-context.js';
import { formatNumber, formatTotal, shortId } from '../lib/format.js';
import { html } from '../lib/html.js';
import { href, navigate } from '../lib/router.js';

const PAGE_SIZE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What GET /tasks accepts as `id_prefix`: the start of an id. */
const ID_PREFIX = /^[0-9a-f-]{1,36}$/;
const PRIORITY_RANK = { critical: 0, high: 1, normal: 2, low: 3 };
const STATUS_RANK = Object.fromEntries(STATUSES.map((s, i) => [s, i]));

const COLUMNS = [
  { key: 'id', label: 'ID' },
  { key: 'task_type', label: 'Type', sort: (a, b) => a.task_type.localeCompare(b.task_type) },
  { key: 'status', label: 'Status', sort: (a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] },
  { key: 'priority', label: 'Priority', sort: (a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] },
  { key: 'attempts', label: 'Attempts', sort: (a, b) => a.current_attempt - b.current_attempt },
  { key: 'progress', label: 'Progress' },
  { key: 'created_at', label: 'Created', sort: (a, b) => a.created_at.localeCompare(b.created_at) },
  { key: 'updated_at', label: 'Updated', sort: (a, b) => a.updated_at.localeCompare(b.updated_at) },
];

function matches(task, filters) {
  const within = (value, list) => !list || list.split(',').includes(value);
  return within(task.status, filters.status) && within(task.task_type, filters.type) && within(task.priority, filters.priority) && task.id.startsWith(filters.q);
}

/** The list's query: the filters, the id prefix (searched by the API across every task, not just the loaded ones), and paging. */
function listQuery(filters, extra) {
  return query({ status: filters.status, task_type: filters.type, priority: filters.priority, id_prefix: filters.q, limit: PAGE_SIZE, ...extra });
}

function SortHeader({ column, sort, setSort }) {
  if (!column.sort) return html`<th scope="col">${column.label}</th>`;
  const [key, dir] = sort.split(':');
  const active = key === column.key;
  const next = active && dir === 'desc' ? 'asc' : 'desc';
  return html`<th scope="col" aria-sort=${active ? (dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
    <button type="button" class="sort" onClick=${() => setSort(`${column.key}:${next}`)}>
      ${column.label}<span class="sort-mark" aria-hidden="true">${active ? (dir === 'asc' ? '▲' : '▼') : '↕'}</span>
    </button>
  </th>`;
}

export function TasksPage({ params }) {
  const { types } = useApp();
  const q = (params.get('q') ?? '').trim().toLowerCase();
  const filters = { status: params.get('status') ?? '', type: params.get('type') ?? '', priority: params.get('priority') ?? '', q };
  const sort = params.get('sort') ?? '';
  const [state, setState] = useState({ rows: [], cursor: null, total: null, totalIsExact: true, loading: true, error: null });
  const [more, setMore] = useState(false);
  // Bumped to read the first page again (after the live stream reconnects).
  const [generation, setGeneration] = useState(0);
  const [flash, setFlash] = useState(() => new Set());
  const [search, setSearch] = useState(q);
  const [searchError, setSearchError] = useState(null);
  const searchInput = useRef(null);
  const lastGeneration = useRef(0);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const stateRef = useRef(state);
  stateRef.current = state;

  const set = (changes) => navigate('/tasks', { ...filters, sort, ...changes }, { replace: true });

  useEffect(() => {
    const controller = new AbortController();
    // A refresh keeps the rows on screen; a change of filters shows the loading state.
    if (generation === lastGeneration.current) setState((s) => ({ ...s, loading: true, error: null }));
    lastGeneration.current = generation;
    api('GET', `/tasks${listQuery(filters)}`, { signal: controller.signal }).then(
      (r) => setState({ rows: r.data, cursor: r.pagination.next_cursor, total: r.pagination.total, totalIsExact: r.pagination.total_is_exact !== false, loading: false, error: null }),
      (error) => error.name !== 'AbortError' && setState({ rows: [], cursor: null, total: null, totalIsExact: true, loading: false, error }),
    );
    document.title = 'Tasks · Conveyor';
    return () => controller.abort();
  }, [filters.status, filters.type, filters.priority, filters.q, generation]);

  useLive('reconnected', () => setGeneration((g) => g + 1));

  const loadMore = async () => {
    setMore(true);
    try {
      const r = await api('GET', `/tasks${listQuery(filters, { cursor: state.cursor })}`);
      setState((s) => {
        const known = new Set(s.rows.map((t) => t.id));
        return { ...s, rows: [...s.rows, ...r.data.filter((t) => !known.has(t.id))], cursor: r.pagination.next_cursor, total: r.pagination.total, totalIsExact: r.pagination.total_is_exact !== false };
      });
    } catch (error) {
      setState((s) => ({ ...s, error }));
    } finally {
      setMore(false);
    }
  };

  // Rows change in place as tasks move; new tasks that fit the filters appear at the top.
  useLive('tasks', (event) => {
    const s = stateRef.current;
    if (s.loading) return;
    const changed = new Set();
    let rows = s.rows;
    let total = s.total;
    const byId = new Map(rows.map((t, i) => [t.id, i]));
    const fresh = [];
    for (const task of event.tasks) {
      const at = byId.get(task.id);
      if (at !== undefined) {
        if (rows === s.rows) rows = [...rows];
        rows[at] = task;
        changed.add(task.id);
      } else if (matches(task, filtersRef.current) && (rows.length === 0 || task.created_at >= rows[0].created_at)) {
        fresh.push(task);
        changed.add(task.id);
      }
    }
    if (fresh.length > 0) {
      rows = [...fresh.sort((a, b) => b.created_at.localeCompare(a.created_at)), ...rows];
      // A lower bound ("10,000+") stays the server's figure: live changes cannot make it exact.
      if (total !== null && s.totalIsExact) total += fresh.length;
    }
    if (event.deleted.length > 0) {
      const gone = new Set(event.deleted);
      const before = rows.length;
      rows = rows.filter((t) => !gone.has(t.id));
      if (total !== null && s.totalIsExact) total -= before - rows.length;
    }
    if (rows === s.rows) return;
    setState({ ...s, rows, total });
    if (changed.size > 0) {
      setFlash(changed);
      setTimeout(() => setFlash((current) => (current === changed ? new Set() : current)), 1600);
    }
  });

  const submitSearch = (event) => {
    event.preventDefault();
    const value = search.trim().toLowerCase();
    if (UUID.test(value)) return navigate(`/tasks/${value}`);
    if (value !== '' && !ID_PREFIX.test(value)) {
      setSearchError('Type the start of a task id: hex digits (0-9, a-f) and dashes, at most 36.');
      searchInput.current?.focus();
      return;
    }
    setSearchError(null);
    set({ q: value });
  };

  let rows = state.rows;
  if (sort) {
    const [key, dir] = sort.split(':');
    const column = COLUMNS.find((c) => c.key === key);
    if (column?.sort) rows = [...rows].sort((a, b) => (dir === 'asc' ? 1 : -1) * column.sort(a, b));
  }
  const typeNames = (types ?? []).map((t) => t.task_type);
  if (filters.type && !typeNames.includes(filters.type)) typeNames.push(filters.type);
  const anyFilter = filters.status || filters.type || filters.priority || q;

  return html`<div class="page">
    <${PageTitle} actions=${html`<a class="btn btn-primary" href=${href('/create')}>New task</a>`}>Tasks<//>
    <form class="filters" role="search" aria-label="Filter tasks" onSubmit=${submitSearch}>
      <div class="field">
        <label for="f-status">Status</label>
        <select id="f-status" value=${filters.status} onChange=${(e) => set({ status: e.currentTarget.value })}>
          <option value="">Any status</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s === 'failed' ? 'failed (dead letter)' : s}</option>`)}
          <option value="pending,scheduled,retrying">waiting (pending, scheduled, retrying)</option>
        </select>
      </div>
      <div class="field">
        <label for="f-type">Type</label>
        <select id="f-type" value=${filters.type} onChange=${(e) => set({ type: e.currentTarget.value })}>
          <option value="">Any type</option>
          ${typeNames.map((name) => html`<option value=${name}>${name}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="f-priority">Priority</label>
        <select id="f-priority" value=${filters.priority} onChange=${(e) => set({ priority: e.currentTarget.value })}>
          <option value="">Any priority</option>
          ${PRIORITIES.map((p) => html`<option value=${p}>${p}</option>`)}
        </select>
      </div>
      <div class="field field-grow">
        <label for="f-id">Task ID</label>
        <div class="input-row">
          <input id="f-id" type="search" placeholder="The start of an id, or a whole id to open it" value=${search} autocomplete="off" spellcheck="false"
            ref=${searchInput} aria-invalid=${searchError ? 'true' : undefined} aria-describedby="f-id-hint"
            onInput=${(e) => {
              setSearch(e.currentTarget.value);
              if (searchError) setSearchError(null);
            }} />
          <button type="submit" class="btn">Find</button>
        </div>
        <small id="f-id-hint" class=${searchError ? 'hint bad' : 'hint'} role=${searchError ? 'alert' : undefined}>${searchError ?? 'The start of an id finds every task whose id begins with it; a whole id opens the task.'}</small>
      </div>
      ${anyFilter ? html`<button type="button" class="btn btn-ghost clear" onClick=${() => {
        setSearch('');
        setSearchError(null);
        navigate('/tasks', sort ? { sort } : {}, { replace: true });
      }}>Clear filters</button>` : null}
    </form>

    <${ErrorNotice} error=${state.error} title="Could not load tasks" />
    ${state.loading ? html`<${Loading} label="Loading tasks…" />` : null}
    ${!state.loading && !state.error && rows.length === 0
      ? html`<${Empty}>${anyFilter ? 'No tasks match these filters.' : 'No tasks yet.'} <a href=${href('/create')}>Create a task</a>.<//>`
      : null}
    ${!state.loading && rows.length > 0
      ? html`<div class="table-wrap">
          <table class="table tasks-table" aria-describedby="tasks-count">
            <thead><tr>${COLUMNS.map((c) => html`<${SortHeader} column=${c} sort=${sort} setSort=${(value) => set({ sort: value })} />`)}</tr></thead>
            <tbody>
              ${rows.map((t) => html`<tr key=${t.id} class=${flash.has(t.id) ? 'flash' : ''} data-task-id=${t.id}>
                <td data-label="ID"><a class="mono" href=${href(`/tasks/${t.id}`)} aria-label=${`Task ${t.id}`}>${shortId(t.id)}</a></td>
                <td data-label="Type">${t.task_type}</td>
                <td data-label="Status"><${StatusBadge} status=${t.status} /></td>
                <td data-label="Priority"><${PriorityBadge} priority=${t.priority} /></td>
                <td data-label="Attempts" class="num">${t.current_attempt}/${t.max_attempts}</td>
                <td data-label="Progress"><${Progress} progress=${t.progress} compact /></td>
                <td data-label="Created"><${RelativeTime} iso=${t.created_at} /></td>
                <td data-label="Updated"><${RelativeTime} iso=${t.updated_at} /></td>
              </tr>`)}
            </tbody>
          </table>
        </div>`
      : null}
    ${!state.loading
      ? html`<div class="pager">
          <span id="tasks-count" class="muted">
            ${q ? `Ids starting “${q}” · ` : ''}Showing ${formatNumber(state.rows.length)}${state.total !== null ? ` of ${formatTotal(state.total, state.totalIsExact)}` : ''}${sort ? ' · sorted within the loaded tasks' : ' · newest first'}
          </span>
          ${state.cursor ? html`<button type="button" class="btn" disabled=${more} onClick=${loadMore}>${more ? 'Loading…' : 'Load more'}</button>` : null}
        </div>`
      : null}
  </div>`;
}
