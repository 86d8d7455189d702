import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { currentRoute, navigate, useRoute } from '../lib/router.js';
import { saveSession } from '../lib/session.js';

const TITLES = { login: 'Sign in', register: 'Create an account', reset: 'Set a new password' };
const LEADS = {
  login: 'Use the same account as the API.',
  register: 'New accounts get the user role (or the role of the invitation): they see their own tasks.',
  reset: 'Use the reset code an admin gave you. Every session of the account ends; then sign in with the new password.',
};

/**
 * Sign in with the API's accounts (username or email), create one (with an invitation when the
 * server asks for one: #/register?invitation=...), or set a new password with an admin's reset code
 * (#/reset?token=...).
 */
export function LoginPage({ message, onLogin }) {
  const route = useRoute();
  const linked = (path) => (path === '/register' ? 'register' : path === '/reset' ? 'reset' : null);
  const [mode, setMode] = useState(() => linked(route.path) ?? 'login');
  // A link followed in an open tab changes only the hash: the form follows it.
  useEffect(() => {
    const next = linked(route.path);
    if (next) {
      setError(null);
      setMode(next);
    }
  }, [route]);
  const code = route.params.get(mode === 'reset' ? 'token' : 'invitation') ?? '';
  const [notice, setNotice] = useState(message);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const first = useRef(null);
  const errorRef = useRef(null);

  useEffect(() => {
    first.current?.focus();
    document.title = `${TITLES[mode]} · Conveyor`;
  }, [mode]);
  useEffect(() => {
    if (error) errorRef.current?.focus();
  }, [error]);

  const switchTo = (next) => {
    setError(null);
    setMode(next);
    // The codes stay in the URL only on the form they belong to.
    if (currentRoute().path !== '/') navigate('/', {}, { replace: true });
  };

  const login = async (login, password) => {
    const { data } = await api('POST', '/auth/login', { body: { username_or_email: login, password } });
    const session = { token: data.session_token, expires_at: data.expires_at, user: data.user };
    saveSession(session);
    onLogin(session);
  };

  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      if (mode === 'register') {
        const invitation = String(form.get('invitation') ?? '').trim();
        await api('POST', '/auth/register', {
          body: { username: form.get('username'), email: form.get('email'), password: form.get('password'), ...(invitation ? { invitation_token: invitation } : {}) },
        });
        await login(form.get('username'), form.get('password'));
      } else if (mode === 'reset') {
        const { data } = await api('POST', '/auth/password-reset', { body: { token: String(form.get('token')).trim(), new_password: form.get('new_password') } });
        setBusy(false);
        setNotice(`Your password is set${data.sessions_ended > 0 ? ` and ${data.sessions_ended} session${data.sessions_ended === 1 ? ' was' : 's were'} ended` : ''}. Sign in with it.`);
        switchTo('login');
      } else {
        await login(form.get('login'), form.get('password'));
      }
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  const passwordHint = html`<small id="password-hint" class="hint">At least 8 characters mixing lower and upper case, digits or symbols; not a common password</small>`;
  let fields;
  if (mode === 'login') {
    fields = html`<div class="field">
        <label for="login">Username or email</label>
        <input id="login" name="login" autocomplete="username" required ref=${first} />
      </div>
      <div class="field">
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
      </div>`;
  } else if (mode === 'register') {
    fields = html`<div class="field">
        <label for="username">Username</label>
        <input id="username" name="username" autocomplete="username" required minlength="3" maxlength="50" ref=${first} aria-describedby="username-hint" />
        <small id="username-hint" class="hint">3–50 letters, digits, _ or -</small>
      </div>
      <div class="field">
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="email" required />
      </div>
      <div class="field">
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="new-password" required aria-describedby="password-hint" />
        ${passwordHint}
      </div>
      <div class="field">
        <label for="invitation">Invitation code</label>
        <input id="invitation" name="invitation" autocomplete="off" spellcheck="false" value=${code} aria-describedby="invitation-hint" />
        <small id="invitation-hint" class="hint">Needed when this server takes new accounts by invitation only</small>
      </div>`;
  } else {
    fields = html`<div class="field">
        <label for="token">Reset code</label>
        <input id="token" name="token" autocomplete="off" spellcheck="false" required value=${code} ref=${first} />
      </div>
      <div class="field">
        <label for="new_password">New password</label>
        <input id="new_password" name="new_password" type="password" autocomplete="new-password" required aria-describedby="password-hint" />
        ${passwordHint}
      </div>`;
  }

  return html`<div class="login-screen">
    <main class="login-card" id="main">
      <div class="login-brand">
        <svg class="logo" viewBox="0 0 32 32" aria-hidden="true"><rect width="32" height="32" rx="7" fill="currentColor"/><rect x="6" y="9" width="20" height="4" rx="2" fill="#fff"/><rect x="6" y="15" width="14" height="4" rx="2" fill="#fff" opacity=".75"/><rect x="6" y="21" width="8" height="4" rx="2" fill="#fff" opacity=".5"/></svg>
        <span>Conveyor</span>
      </div>
      <h1>${TITLES[mode]}</h1>
      <p class="muted">${LEADS[mode]}</p>
      ${notice && !error ? html`<div class="notice notice-info" role="status">${notice}</div>` : null}
      ${error ? html`<div class="notice notice-error" role="alert" tabindex="-1" ref=${errorRef}>${error.message}</div>` : null}
      <form onSubmit=${submit} class="stack" key=${`${mode}:${code}`}>
        ${fields}
        <button type="submit" class="btn btn-primary btn-block" disabled=${busy}>${busy ? 'Please wait…' : mode === 'login' ? 'Sign in' : mode === 'register' ? 'Create account' : 'Set password'}</button>
      </form>
      <p class="login-switch">
        ${mode === 'login'
          ? html`No account yet? <button type="button" class="link" onClick=${() => switchTo('register')}>Create one</button>
              · <button type="button" class="link" onClick=${() => switchTo('reset')}>I have a reset code</button>`
          : html`Already have an account? <button type="button" class="link" onClick=${() => switchTo('login')}>Sign in</button>`}
      </p>
    </main>
  </div>`;
}
