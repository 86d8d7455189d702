import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { saveSession } from '../lib/session.js';

/** Sign in with the API's accounts (username or email), or create one (role user). */
export function LoginPage({ message, onLogin }) {
  const [mode, setMode] = useState('login');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const first = useRef(null);
  const errorRef = useRef(null);

  useEffect(() => {
    first.current?.focus();
    document.title = mode === 'login' ? 'Sign in · Conveyor' : 'Create account · Conveyor';
  }, [mode]);
  useEffect(() => {
    if (error) errorRef.current?.focus();
  }, [error]);

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
        await api('POST', '/auth/register', { body: { username: form.get('username'), email: form.get('email'), password: form.get('password') } });
        await login(form.get('username'), form.get('password'));
      } else {
        await login(form.get('login'), form.get('password'));
      }
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return html`<div class="login-screen">
    <main class="login-card" id="main">
      <div class="login-brand">
        <svg class="logo" viewBox="0 0 32 32" aria-hidden="true"><rect width="32" height="32" rx="7" fill="currentColor"/><rect x="6" y="9" width="20" height="4" rx="2" fill="#fff"/><rect x="6" y="15" width="14" height="4" rx="2" fill="#fff" opacity=".75"/><rect x="6" y="21" width="8" height="4" rx="2" fill="#fff" opacity=".5"/></svg>
        <span>Conveyor</span>
      </div>
      <h1>${mode === 'login' ? 'Sign in' : 'Create an account'}</h1>
      <p class="muted">${mode === 'login' ? 'Use the same account as the API.' : 'New accounts get the user role: they see their own tasks.'}</p>
      ${message && !error ? html`<div class="notice notice-info" role="status">${message}</div>` : null}
      ${error ? html`<div class="notice notice-error" role="alert" tabindex="-1" ref=${errorRef}>${error.message}</div>` : null}
      <form onSubmit=${submit} class="stack">
        ${mode === 'login'
          ? html`<div class="field">
              <label for="login">Username or email</label>
              <input id="login" name="login" autocomplete="username" required ref=${first} />
            </div>`
          : html`<div class="field">
                <label for="username">Username</label>
                <input id="username" name="username" autocomplete="username" required minlength="3" maxlength="50" ref=${first} aria-describedby="username-hint" />
                <small id="username-hint" class="hint">3–50 letters, digits, _ or -</small>
              </div>
              <div class="field">
                <label for="email">Email</label>
                <input id="email" name="email" type="email" autocomplete="email" required />
              </div>`}
        <div class="field">
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete=${mode === 'login' ? 'current-password' : 'new-password'} required aria-describedby=${mode === 'register' ? 'password-hint' : undefined} />
          ${mode === 'register' ? html`<small id="password-hint" class="hint">At least 8 characters mixing lower and upper case, digits or symbols</small>` : null}
        </div>
        <button type="submit" class="btn btn-primary btn-block" disabled=${busy}>${busy ? 'Please wait…' : mode === 'login' ? 'Sign in' : 'Create account'}</button>
      </form>
      <p class="login-switch">
        ${mode === 'login' ? 'No account yet? ' : 'Already have an account? '}
        <button type="button" class="link" onClick=${() => {
          setError(null);
          setMode(mode === 'login' ? 'register' : 'login');
        }}>${mode === 'login' ? 'Create one' : 'Sign in'}</button>
      </p>
    </main>
  </div>`;
}
