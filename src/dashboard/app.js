import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, onUnauthorized } from './lib/api.js';
import { AppContext } from './lib/app-context.js';
import { html } from './lib/html.js';
import { LiveEvents } from './lib/live.js';
import { href, navigate, useRoute } from './lib/router.js';
import { clearSession, hasRole, readSession } from './lib/session.js';
import { CreatePage } from './pages/create.js';
import { DeadLetterPage } from './pages/dead-letter.js';
import { LoginPage } from './pages/login.js';
import { OverviewPage } from './pages/overview.js';
import { SchedulesPage } from './pages/schedules.js';
import { TaskPage } from './pages/task.js';
import { TasksPage } from './pages/tasks.js';
import { UsersPage } from './pages/users.js';
import { AccountPage } from './pages/account.js';

const NAV = [
  { path: '/', label: 'Overview' },
  { path: '/tasks', label: 'Tasks' },
  { path: '/dead-letter', label: 'Dead letter' },
  { path: '/schedules', label: 'Schedules' },
  { path: '/create', label: 'New task' },
  // Shown to moderators (who invite) and admins (who also manage accounts); the API refuses everyone else anyway.
  { path: '/users', label: 'Users', role: 'moderator' },
];

const LIVE_LABEL = { live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…' };

function Page({ route }) {
  const { path, params } = route;
  if (path === '/' || path === '') return html`<${OverviewPage} />`;
  if (path === '/tasks') return html`<${TasksPage} params=${params} />`;
  const task = /^\/tasks\/([0-9a-fA-F-]{36})$/.exec(path);
  if (task) return html`<${TaskPage} key=${task[1]} id=${task[1]} />`;
  if (path === '/dead-letter') return html`<${DeadLetterPage} params=${params} />`;
  if (path === '/schedules') return html`<${SchedulesPage} />`;
  if (path === '/create') return html`<${CreatePage} params=${params} />`;
  if (path === '/users') return html`<${UsersPage} params=${params} />`;
  if (path === '/account') return html`<${AccountPage} />`;
  return html`<div class="page-head"><h1 tabindex="-1">Page not found</h1></div><p><a href="#/">Back to the overview</a></p>`;
}

function Toasts({ toasts, dismiss }) {
  return html`<div class="toasts" role="status" aria-live="polite">
    ${toasts.map((t) => html`<div key=${t.id} class=${`toast toast-${t.kind}`}>
      <span>${t.message}</span>
      <button type="button" class="toast-close" aria-label="Dismiss" onClick=${() => dismiss(t.id)}>×</button>
    </div>`)}
  </div>`;
}

function Logo() {
  return html`<svg class="logo" viewBox="0 0 32 32" aria-hidden="true"><rect width="32" height="32" rx="7" fill="currentColor"/><rect x="6" y="9" width="20" height="4" rx="2" fill="#fff"/><rect x="6" y="15" width="14" height="4" rx="2" fill="#fff" opacity=".75"/><rect x="6" y="21" width="8" height="4" rx="2" fill="#fff" opacity=".5"/></svg>`;
}

function Shell({ session, onLogout }) {
  const route = useRoute();
  const [liveStatus, setLiveStatus] = useState('connecting');
  const [stats, setStats] = useState(null);
  const [types, setTypes] = useState(null);
  const [toasts, setToasts] = useState([]);
  const live = useMemo(() => new LiveEvents(session.token), [session.token]);
  const toastId = useRef(0);

  useEffect(() => {
    const offs = [
      live.on('status', setLiveStatus),
      live.on('stats', (data) => setStats({ ...data, received_at: Date.now() })),
    ];
    live.start();
    return () => {
      offs.forEach((off) => off());
      live.stop();
    };
  }, [live]);

  const loadTypes = useCallback(async () => {
    try {
      setTypes((await api('GET', '/tasks/types')).data);
    } catch (error) {
      setTypes((current) => current ?? { error });
    }
  }, []);
  useEffect(() => {
    void loadTypes();
  }, [loadTypes]);

  const dismiss = useCallback((id) => setToasts((list) => list.filter((t) => t.id !== id)), []);
  const notify = useCallback((message, kind = 'info') => {
    const id = ++toastId.current;
    setToasts((list) => [...list.slice(-3), { id, message, kind }]);
    setTimeout(() => dismiss(id), kind === 'error' ? 9000 : 5000);
  }, [dismiss]);

  const context = useMemo(
    () => ({ user: session.user, live, liveStatus, stats, types: Array.isArray(types) ? types : null, typesError: types?.error ?? null, reloadTypes: loadTypes, notify }),
    [session.user, live, liveStatus, stats, types, loadTypes, notify],
  );
  const section = route.path.startsWith('/tasks') ? '/tasks' : route.path;

  return html`<${AppContext.Provider} value=${context}>
    <a class="skip-link" href="#main" onClick=${(e) => {
      e.preventDefault();
      document.getElementById('main')?.focus();
    }}>Skip to content</a>
    <header class="topbar">
      <div class="topbar-inner">
        <a class="brand" href="#/"><${Logo} /><span>Conveyor</span></a>
        <nav class="nav" aria-label="Main">
          ${NAV.filter((item) => !item.role || hasRole(session.user, item.role)).map((item) => html`<a href=${href(item.path)} class=${section === item.path ? 'active' : ''} aria-current=${section === item.path ? 'page' : undefined}>${item.label}</a>`)}
        </nav>
        <div class="session">
          <span class=${`live live-${liveStatus}`} role="status" title="Updates arrive as they happen">
            <span class="live-dot" aria-hidden="true"></span>${LIVE_LABEL[liveStatus] ?? liveStatus}
          </span>
          <a class="who" href=${href('/account')} title="Your account: change your password"><span class="who-name">${session.user.username}</span> <span class="role">${session.user.role}</span></a>
          <button type="button" class="btn btn-ghost btn-small" onClick=${onLogout}>Log out</button>
        </div>
      </div>
    </header>
    <main id="main" tabindex="-1">
      <${Page} key=${route.path} route=${route} />
    </main>
    <${Toasts} toasts=${toasts} dismiss=${dismiss} />
  <//>`;
}

function App() {
  const [session, setSession] = useState(readSession);
  const [message, setMessage] = useState(null);

  useEffect(
    () =>
      onUnauthorized((text) => {
        setSession(null);
        setMessage(text);
      }),
    [],
  );

  const logout = useCallback(async () => {
    try {
      await api('POST', '/auth/logout');
    } catch {
      // the session may already be gone; signing out locally is what matters
    }
    clearSession();
    setSession(null);
    setMessage('You are signed out.');
  }, []);

  if (!session) {
    return html`<${LoginPage} message=${message} onLogin=${(next) => {
      setMessage(null);
      setSession(next);
      if (location.hash === '' || /^#\/(login|register|reset)\b/.test(location.hash)) navigate('/', {}, { replace: true });
    }} />`;
  }
  return html`<${Shell} key=${session.token} session=${session} onLogout=${logout} />`;
}

render(html`<${App} />`, document.getElementById('app'));
