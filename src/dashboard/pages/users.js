import { useEffect, useRef, useState } from 'preact/hooks';
import { ConfirmButton, Empty, ErrorNotice, Loading, PageTitle, RelativeTime } from '../components/ui.js';
import { api, query } from '../lib/api.js';
import { useApp, useLive, useLoad } from '../lib/app-context.js';
import { formatNumber } from '../lib/format.js';
import { html } from '../lib/html.js';
import { href, navigate } from '../lib/router.js';
import { hasRole } from '../lib/session.js';

const PAGE_SIZE = 50;
const ROLES = ['user', 'moderator', 'admin'];
const ROLE_NOTE = { user: 'their own tasks', moderator: 'every task, workers', admin: 'everything, users and breakers' };

/** What changed, as the notification says it. */
function describeChange(before, after) {
  const name = after.username;
  if (before.is_active !== after.is_active) {
    if (after.is_active) return `${name} can sign in again`;
    return `${name} is deactivated${after.sessions_ended > 0 ? ` and was signed out of ${after.sessions_ended} session${after.sessions_ended === 1 ? '' : 's'}` : ''}`;
  }
  return `${name} is now ${after.role === 'admin' ? 'an' : 'a'} ${after.role}`;
}

/**
 * The role as a select that asks before it applies: picking another role shows "Make bob a
 * moderator?" with Change and Keep, and focus moves to Keep so a stray Enter changes nothing.
 */
function RoleControl({ account, self, onChange }) {
  const [pending, setPending] = useState(null);
  const [busy, setBusy] = useState(false);
  const select = useRef(null);
  const keep = useRef(null);
  useEffect(() => {
    if (pending) keep.current?.focus();
  }, [pending]);
  const id = `role-${account.id}`;
  const cancel = () => {
    setPending(null);
    // Back where the person was, with the select showing the role that still holds.
    setTimeout(() => select.current?.focus());
  };
  return html`<div class="role-control">
    <label class="sr-only" for=${id}>Role of ${account.username}</label>
    <select id=${id} ref=${select} value=${pending ?? account.role} disabled=${self || busy}
      aria-describedby=${self ? 'users-self-hint' : undefined}
      onChange=${(e) => {
        const next = e.currentTarget.value;
        setPending(next === account.role ? null : next);
      }}>
      ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}
    </select>
    ${pending
      ? html`<span class="confirm" role="group" aria-label=${`Confirm the role change of ${account.username}`}>
          <span class="confirm-text">Make ${account.username} ${pending === 'admin' ? 'an' : 'a'} ${pending}?</span>
          <button type="button" class="btn btn-primary btn-small" disabled=${busy} onClick=${async () => {
            setBusy(true);
            try {
              await onChange({ role: pending });
            } finally {
              setBusy(false);
              setPending(null);
              setTimeout(() => select.current?.focus());
            }
          }}>Change role</button>
          <button type="button" class="btn btn-ghost btn-small" ref=${keep} disabled=${busy} onClick=${cancel}>Keep</button>
        </span>`
      : null}
  </div>`;
}

/** A one-time token just issued: the link to pass on (shown once; only its hash is kept). */
function IssuedToken({ issued, onDone }) {
  const ref = useRef(null);
  useEffect(() => {
    ref.current?.focus();
    ref.current?.select();
  }, [issued]);
  const link = `${location.origin}${location.pathname}${href(issued.path, { [issued.param]: issued.token })}`;
  return html`<div class="notice notice-info issued-token" role="status" data-issued=${issued.kind}>
    <strong>${issued.title}</strong>
    <span>Pass this link on; it works once, until ${new Date(issued.expires_at).toLocaleString()}, and is shown only now.</span>
    <label class="sr-only" for="issued-link">${issued.title}: link</label>
    <input id="issued-link" ref=${ref} readonly value=${link} />
    <span class="muted small">Or the code: <code data-token>${issued.token}</code></span>
    <span><button type="button" class="btn btn-ghost btn-small" onClick=${onDone}>Done</button></span>
  </div>`;
}

/** Who issued an open invitation, as its row says it. */
function issuerOf(invitation, me) {
  if (invitation.created_by === null) return 'the command line';
  return invitation.created_by === me.id ? 'you' : 'another moderator or admin';
}

/**
 * Moderators and admins: an invitation to register, with the role it grants (above user: admins
 * only), and the invitations still open, each revocable (a moderator sees those to the user role).
 */
function InvitePanel({ me, onIssued, notify }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const open = useLoad(() => api('GET', '/users/invitations'), []);
  const roles = me.role === 'admin' ? ROLES : ['user'];
  const revoke = async (invitation) => {
    try {
      await api('POST', `/users/invitations/${invitation.id}/revoke`);
      notify(`The invitation for a ${invitation.role} is revoked: its link registers nobody now`, 'success');
    } catch (failure) {
      notify(failure.message, 'error');
    }
    await open.reload();
  };
  const invitations = open.data?.data ?? [];
  const submit = async (event) => {
    event.preventDefault();
    const role = new FormData(event.currentTarget).get('role');
    setBusy(true);
    setError(null);
    try {
      const { data } = await api('POST', '/users/invitations', { body: { role } });
      onIssued({ kind: 'invitation', title: `Invitation for a ${data.role}`, token: data.invitation_token, expires_at: data.expires_at, path: '/register', param: 'invitation' });
      await open.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="card mt" aria-labelledby="invite-heading">
    <h2 id="invite-heading">Invite someone</h2>
    <p class="muted">When this server takes new accounts by invitation, the link lets one person register, once.</p>
    <${ErrorNotice} error=${error} title="Could not create the invitation" />
    <form onSubmit=${submit} class="inline-form">
      <label for="invite-role">Invitation role</label>
      <select id="invite-role" name="role">${roles.map((r) => html`<option value=${r}>${r}</option>`)}</select>
      <button type="submit" class="btn btn-primary" disabled=${busy}>Create invitation</button>
    </form>
    <h3 id="open-invitations-heading" class="mt">Open invitations</h3>
    <${ErrorNotice} error=${open.error} title="Could not load the open invitations" />
    ${open.data && invitations.length === 0 ? html`<p class="muted">None: every invitation was used, has expired or was revoked.</p>` : null}
    ${invitations.length > 0
      ? html`<div class="table-wrap">
          <table class="table invitations-table" aria-labelledby="open-invitations-heading">
            <thead><tr><th scope="col">Role</th><th scope="col">Issued by</th><th scope="col">Issued</th><th scope="col">Expires</th><th scope="col"><span class="sr-only">Revoke</span></th></tr></thead>
            <tbody>
              ${invitations.map((invitation) => html`<tr key=${invitation.id} data-invitation-id=${invitation.id}>
                <th scope="row" data-label="Role">${invitation.role}</th>
                <td data-label="Issued by">${issuerOf(invitation, me)}</td>
                <td data-label="Issued"><${RelativeTime} iso=${invitation.created_at} /></td>
                <td data-label="Expires"><${RelativeTime} iso=${invitation.expires_at} /></td>
                <td class="row-end"><${ConfirmButton} small label="Revoke" confirmLabel=${`Yes, revoke this ${invitation.role} invitation`} onConfirm=${() => revoke(invitation)} /></td>
              </tr>`)}
            </tbody>
          </table>
        </div>`
      : null}
  </section>`;
}

function UserRow({ account, self, onChange, onReset }) {
  return html`<tr data-user-id=${account.id} class=${account.is_active ? '' : 'inactive'}>
    <th scope="row" data-label="User">
      <span class="user-name">${account.username}${self ? html` <span class="you">you</span>` : null}</span>
      <span class="muted small user-email">${account.email}</span>
    </th>
    <td data-label="Role"><${RoleControl} account=${account} self=${self} onChange=${onChange} /></td>
    <td data-label="Status">
      <span class=${`badge ${account.is_active ? 'account-active' : 'account-inactive'}`}>${account.is_active ? 'active' : 'deactivated'}</span>
    </td>
    <td data-label="Created"><${RelativeTime} iso=${account.created_at} /></td>
    <td data-label="Last sign-in"><${RelativeTime} iso=${account.last_login_at} /></td>
    <td data-label="Access" class="row-end">
      ${self ? null : html`<button type="button" class="btn btn-ghost btn-small" onClick=${onReset}>Reset password</button> `}
      ${self
        ? null
        : account.is_active
          ? html`<${ConfirmButton} small label="Deactivate" confirmLabel=${`Yes, deactivate ${account.username}`} onConfirm=${() => onChange({ is_active: false })} />`
          : html`<${ConfirmButton} small kind="primary" label="Activate" confirmLabel=${`Yes, activate ${account.username}`} onConfirm=${() => onChange({ is_active: true })} />`}
    </td>
  </tr>`;
}

/** Admins: every account, its role, whether it may sign in, and password resets. Moderators and admins: invitations. */
export function UsersPage({ params }) {
  const { user: me, notify } = useApp();
  const offset = Math.max(0, Math.floor(Number(params.get('offset'))) || 0);
  const isAdmin = hasRole(me, 'admin');
  const data = useLoad(() => (isAdmin || !hasRole(me, 'moderator') ? api('GET', `/users${query({ limit: PAGE_SIZE, offset })}`) : Promise.resolve(null)), [offset]);
  const [issued, setIssued] = useState(null);

  const reset = async (account) => {
    try {
      const { data: made } = await api('POST', `/users/${account.id}/password-reset`);
      setIssued({ kind: 'password_reset', title: `Password reset for ${account.username}`, token: made.reset_token, expires_at: made.expires_at, path: '/reset', param: 'token' });
    } catch (error) {
      notify(error.message, 'error');
    }
  };

  useEffect(() => {
    document.title = 'Users · Conveyor';
  }, []);
  useLive('reconnected', () => void data.reload());

  const change = async (account, changes) => {
    try {
      const { data: updated } = await api('PATCH', `/users/${account.id}`, { body: changes });
      data.setData((current) => current && { ...current, data: current.data.map((u) => (u.id === updated.id ? { ...u, ...updated } : u)) });
      notify(describeChange(account, updated), 'success');
    } catch (error) {
      notify(error.message, 'error');
    }
  };

  const users = data.data?.data ?? [];
  const total = data.data?.pagination.total ?? 0;
  const forbidden = data.error?.status === 403;

  return html`<div class="page">
    <${PageTitle}>Users<//>
    <p class="lede">Everyone with an account. Roles: user (${ROLE_NOTE.user}), moderator (${ROLE_NOTE.moderator}), admin (${ROLE_NOTE.admin}). A deactivated account is signed out at once and cannot sign in.</p>
    ${issued ? html`<${IssuedToken} issued=${issued} onDone=${() => setIssued(null)} />` : null}
    ${hasRole(me, 'moderator') ? html`<${InvitePanel} me=${me} onIssued=${setIssued} notify=${notify} />` : null}
    ${!isAdmin && hasRole(me, 'moderator') ? html`<p class="muted mt">Only admins see and change the accounts.</p>` : null}
    ${forbidden
      ? html`<div class="notice notice-warn" role="alert"><strong>Admins only</strong><span>Only admins can see and change accounts. ${data.error.message}.</span></div>`
      : html`<${ErrorNotice} error=${data.error} title="Could not load the users" />`}
    ${data.loading && !data.data ? html`<${Loading} label="Loading users…" />` : null}
    ${data.data && users.length === 0 ? html`<${Empty}>No accounts on this page.<//>` : null}
    ${users.length > 0
      ? html`<div class="table-wrap">
          <table class="table users-table" aria-describedby="users-count">
            <thead><tr>
              <th scope="col">User</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Last sign-in</th><th scope="col"><span class="sr-only">Access</span></th>
            </tr></thead>
            <tbody>
              ${users.map((u) => html`<${UserRow} key=${u.id} account=${u} self=${u.id === me.id} onChange=${(changes) => change(u, changes)} onReset=${() => reset(u)} />`)}
            </tbody>
          </table>
        </div>
        <p id="users-self-hint" class="hint">You cannot change your own role or deactivate yourself; another admin can.</p>`
      : null}
    ${data.data && total > 0
      ? html`<div class="pager">
          <span id="users-count" class="muted">Showing ${formatNumber(users.length === 0 ? 0 : offset + 1)}–${formatNumber(offset + users.length)} of ${formatNumber(total)}</span>
          <span class="actions">
            ${offset > 0 ? html`<button type="button" class="btn" onClick=${() => navigate('/users', { offset: Math.max(0, offset - PAGE_SIZE) || undefined })}>Previous</button>` : null}
            ${offset + users.length < total ? html`<button type="button" class="btn" onClick=${() => navigate('/users', { offset: offset + PAGE_SIZE })}>Next</button>` : null}
          </span>
        </div>`
      : null}
  </div>`;
}
