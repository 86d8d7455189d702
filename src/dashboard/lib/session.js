/**
 * The signed-in session, kept in sessionStorage: it lasts as long as the tab, is not sent with
 * requests automatically (so no CSRF), and is gone when the tab closes.
 */
const KEY = 'conveyor.session';

/** @returns {{ token: string, expires_at: string, user: { id: string, username: string, email: string, role: 'user'|'moderator'|'admin' } } | null} */
export function readSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    if (!session || typeof session.token !== 'string') return null;
    if (Date.parse(session.expires_at) <= Date.now()) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    return session;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}

const ROLE_RANK = { user: 0, moderator: 1, admin: 2 };

/** Same ordering as the API: an admin may do what a moderator may. */
export function hasRole(user, role) {
  return (ROLE_RANK[user?.role] ?? -1) >= ROLE_RANK[role];
}
