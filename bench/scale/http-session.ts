/** Small typed calls to a running API server, as the dashboard or a script would make them. */
export interface Caller {
  baseUrl: string;
  token: string;
}

export async function call<T>(caller: Caller, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${caller.baseUrl}${path}`, {
    method,
    headers: { ...(caller.token ? { authorization: `Bearer ${caller.token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { data: T }).data;
}

const PASSWORD = 'Scale-owner-2026!';

/** `count` role-user accounts made as an operator makes them: an admin's invitation, registration, login. */
export async function createOwners(admin: Caller, count: number): Promise<{ id: string; caller: Caller }[]> {
  const owners: { id: string; caller: Caller }[] = [];
  for (let i = 0; i < count; i++) {
    const { invitation_token } = await call<{ invitation_token: string }>(admin, 'POST', '/users/invitations', { role: 'user' });
    const anonymous = { baseUrl: admin.baseUrl, token: '' };
    const username = `owner${i + 1}`;
    const user = await call<{ id: string }>(anonymous, 'POST', '/auth/register', { username, email: `${username}@example.com`, password: PASSWORD, invitation_token });
    const login = await call<{ session_token: string }>(anonymous, 'POST', '/auth/login', { username_or_email: username, password: PASSWORD });
    owners.push({ id: user.id, caller: { baseUrl: admin.baseUrl, token: login.session_token } });
  }
  return owners;
}
