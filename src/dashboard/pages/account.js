import { useEffect, useRef, useState } from 'preact/hooks';
import { PageTitle } from '../components/ui.js';
import { api } from '../lib/api.js';
import { useApp } from '../lib/app-context.js';
import { html } from '../lib/html.js';

/** The signed-in user's own account: who they are, and changing the password (which signs out their other sessions). */
export function AccountPage() {
  const { user, notify } = useApp();
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const errorRef = useRef(null);
  useEffect(() => {
    document.title = 'Your account · Conveyor';
  }, []);
  useEffect(() => {
    if (error) errorRef.current?.focus();
  }, [error]);

  const submit = async (event) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setError(null);
    if (form.get('new_password') !== form.get('confirm_password')) {
      setError({ message: 'The new passwords differ; type the same one twice.' });
      return;
    }
    setBusy(true);
    try {
      const { data } = await api('POST', '/auth/password', { body: { current_password: form.get('current_password'), new_password: form.get('new_password') } });
      formElement.reset();
      notify(`Password changed${data.sessions_ended > 0 ? `; ${data.sessions_ended} other session${data.sessions_ended === 1 ? ' was' : 's were'} signed out` : ''}`, 'success');
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return html`<div class="page">
    <${PageTitle}>Your account<//>
    <p class="lede">Signed in as <strong>${user.username}</strong> (${user.email}), role ${user.role}.</p>
    <section class="card mt" aria-labelledby="password-heading">
      <h2 id="password-heading">Change your password</h2>
      <p class="muted">Your other sessions (other browsers, API tokens) end; this one stays signed in.</p>
      ${error ? html`<div class="notice notice-error" role="alert" tabindex="-1" ref=${errorRef}>${error.message}</div>` : null}
      <form onSubmit=${submit} class="stack">
        <div class="field">
          <label for="current_password">Current password</label>
          <input id="current_password" name="current_password" type="password" autocomplete="current-password" required />
        </div>
        <div class="field">
          <label for="new_password">New password</label>
          <input id="new_password" name="new_password" type="password" autocomplete="new-password" required aria-describedby="new-password-hint" />
          <small id="new-password-hint" class="hint">At least 8 characters mixing lower and upper case, digits or symbols; not a common password</small>
        </div>
        <div class="field">
          <label for="confirm_password">New password again</label>
          <input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required />
        </div>
        <div class="form-actions">
          <button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Please wait…' : 'Change password'}</button>
        </div>
      </form>
    </section>
  </div>`;
}
