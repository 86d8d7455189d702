import type { AccountTokenKind, AccountTokenRecord, NewUser, SessionRecord, UserRecord, UserRole } from '../engine.ts';
import type { PostgresConnection } from './postgres-connection.ts';
import { accountTokenFromRow, type AccountTokenRow, type PrefixedUserRow, sessionFromRow, type SessionRow, userFromPrefixedRow, userFromRow, type UserRow } from './record-rows.ts';
import { ACCOUNT_TOKEN_COLUMNS, prefixed, SESSION_COLUMNS, type SqlContext, USER_COLUMNS } from './sql-parts.ts';

/** Users, their sessions, and one-time account tokens (invitations, password resets). */
export class AccountStore {
  readonly #c: PostgresConnection;
  readonly #sql: ReturnType<typeof accountsSql>;

  constructor(c: PostgresConnection) {
    this.#c = c;
    this.#sql = accountsSql(c.sql);
  }

  async userInsert(p: { user: NewUser }): Promise<UserRecord> {
    const { user } = p;
    const { rows } = await this.#c.run<UserRow>('userInsert', this.#sql.userInsert, [user.id, user.username, user.email, user.passwordHash, user.role, user.createdAt]);
    return userFromRow(rows[0]!);
  }

  async userGet(p: { id: string }): Promise<UserRecord | null> {
    this.#c.assertOpen();
    const { rows } = await this.#c.run<UserRow>('userGet', this.#sql.userGet, [p.id]);
    return rows[0] ? userFromRow(rows[0]) : null;
  }

  async userFind(p: { login: string }): Promise<UserRecord | null> {
    const { rows } = await this.#c.run<UserRow>('userFind', this.#sql.userFind, [p.login]);
    return rows[0] ? userFromRow(rows[0]) : null;
  }

  async userList(p: { limit: number; offset: number }): Promise<UserRecord[]> {
    const { rows } = await this.#c.run<UserRow>('userList', this.#sql.userList, [Math.max(0, Math.floor(p.limit)), Math.max(0, Math.floor(p.offset))]);
    return rows.map(userFromRow);
  }

  async userUpdate(p: { id: string; changes: Partial<Pick<UserRecord, 'role' | 'isActive' | 'passwordHash' | 'lastLoginAt'>>; now: Date }): Promise<UserRecord | null> {
    this.#c.assertOpen();
    const { changes } = p;
    const { rows } = await this.#c.run<UserRow>('userUpdate', this.#sql.userUpdate, [
      p.id,
      changes.role ?? null,
      changes.isActive ?? null,
      changes.passwordHash ?? null,
      changes.lastLoginAt !== undefined,
      changes.lastLoginAt ?? null,
      p.now,
    ]);
    return rows[0] ? userFromRow(rows[0]) : null;
  }

  async userCount(p: { role?: UserRole }): Promise<number> {
    const { rows } = await this.#c.run<{ count: number }>('userCount', this.#sql.userCount, [p.role ?? null]);
    return rows[0]!.count;
  }

  async sessionInsert(p: { session: SessionRecord }): Promise<void> {
    const { session } = p;
    await this.#c.run('sessionInsert', this.#sql.sessionInsert, [session.tokenHash, session.userId, session.createdAt, session.expiresAt, session.lastRefreshedAt, session.userAgent]);
  }

  async sessionGet(p: { tokenHash: string; now: Date }): Promise<{ session: SessionRecord; user: UserRecord } | null> {
    const { rows } = await this.#c.run<SessionRow & PrefixedUserRow>('sessionGet', this.#sql.sessionGet, [p.tokenHash, p.now]);
    const row = rows[0];
    return row ? { session: sessionFromRow(row), user: userFromPrefixedRow(row) } : null;
  }

  async sessionUpdate(p: { tokenHash: string; expiresAt: Date; now: Date }): Promise<boolean> {
    const result = await this.#c.run('sessionUpdate', this.#sql.sessionUpdate, [p.tokenHash, p.expiresAt, p.now]);
    return result.rowCount === 1;
  }

  async sessionDelete(p: { tokenHash: string }): Promise<boolean> {
    const result = await this.#c.run('sessionDelete', this.#sql.sessionDelete, [p.tokenHash]);
    return result.rowCount === 1;
  }

  async sessionDeleteForUser(p: { userId: string; keepTokenHash?: string }): Promise<number> {
    this.#c.assertOpen();
    const result = await this.#c.run('sessionDeleteForUser', this.#sql.sessionDeleteForUser, [p.userId, p.keepTokenHash ?? null]);
    return result.rowCount ?? 0;
  }

  async sessionLiveRoles(p: { tokenHashes: string[]; now: Date }): Promise<{ tokenHash: string; role: UserRole }[]> {
    const { rows } = await this.#c.run<{ token_hash: string; role: UserRole }>('sessionLiveRoles', this.#sql.sessionLiveRoles, [p.tokenHashes, p.now]);
    return rows.map((r) => ({ tokenHash: r.token_hash, role: r.role }));
  }

  async sessionPruneExpired(p: { now: Date }): Promise<number> {
    const result = await this.#c.run('sessionPruneExpired', this.#sql.sessionPruneExpired, [p.now]);
    return result.rowCount ?? 0;
  }

  async accountTokenInsert(p: { token: AccountTokenRecord }): Promise<void> {
    const t = p.token;
    await this.#c.run('accountTokenInsert', this.#sql.accountTokenInsert, [t.tokenHash, t.kind, t.userId, t.role, t.createdBy, t.createdAt, t.expiresAt]);
  }

  async accountTokenGet(p: { tokenHash: string; kind: AccountTokenKind; now: Date }): Promise<AccountTokenRecord | null> {
    const { rows } = await this.#c.run<AccountTokenRow>('accountTokenGet', this.#sql.accountTokenGet, [p.tokenHash, p.kind, p.now]);
    return rows[0] ? accountTokenFromRow(rows[0]) : null;
  }

  async accountTokenUse(p: { tokenHash: string; kind: AccountTokenKind; now: Date }): Promise<AccountTokenRecord | null> {
    const { rows } = await this.#c.run<AccountTokenRow>('accountTokenUse', this.#sql.accountTokenUse, [p.tokenHash, p.kind, p.now]);
    return rows[0] ? accountTokenFromRow(rows[0]) : null;
  }

  async accountTokenRelease(p: { tokenHash: string }): Promise<boolean> {
    const result = await this.#c.run('accountTokenRelease', this.#sql.accountTokenRelease, [p.tokenHash]);
    return result.rowCount === 1;
  }

  async accountTokenList(p: { kind: AccountTokenKind; now: Date; limit: number }): Promise<AccountTokenRecord[]> {
    const { rows } = await this.#c.run<AccountTokenRow>('accountTokenList', this.#sql.accountTokenList, [p.kind, p.now, p.limit]);
    return rows.map(accountTokenFromRow);
  }

  async accountTokenRevoke(p: { tokenHash: string; kind: AccountTokenKind; now: Date }): Promise<boolean> {
    const result = await this.#c.run('accountTokenRevoke', this.#sql.accountTokenRevoke, [p.tokenHash, p.kind, p.now]);
    return result.rowCount === 1;
  }

  async accountTokenPruneExpired(p: { now: Date }): Promise<number> {
    const result = await this.#c.run('accountTokenPruneExpired', this.#sql.accountTokenPruneExpired, [p.now]);
    return result.rowCount ?? 0;
  }
}

function accountsSql({ s, statement }: SqlContext) {
  return {
    userInsert: statement('user_insert', `
      INSERT INTO ${s}.users (id, username, email, password_hash, role, created_at, updated_at)
      VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::timestamptz, $6::timestamptz)
      RETURNING ${USER_COLUMNS}`),
    userGet: statement('user_get', `SELECT ${USER_COLUMNS} FROM ${s}.users WHERE id = $1::uuid`),
    // Matches the unique indexes on lower(username) and lower(email).
    userFind: statement('user_find', `
      SELECT ${USER_COLUMNS} FROM ${s}.users WHERE lower(username) = lower($1::text)
      UNION ALL
      SELECT ${USER_COLUMNS} FROM ${s}.users WHERE lower(email) = lower($1::text) AND lower(username) <> lower($1::text)
      LIMIT 1`),
    userList: statement('user_list', `SELECT ${USER_COLUMNS} FROM ${s}.users ORDER BY created_at, id LIMIT $1::int OFFSET $2::int`),
    userUpdate: statement('user_update', `
      UPDATE ${s}.users
      SET role = coalesce($2::text, role), is_active = coalesce($3::boolean, is_active), password_hash = coalesce($4::text, password_hash),
          last_login_at = CASE WHEN $5::boolean THEN $6::timestamptz ELSE last_login_at END, updated_at = $7::timestamptz
      WHERE id = $1::uuid
      RETURNING ${USER_COLUMNS}`),
    userCount: statement('user_count', `SELECT count(*) AS count FROM ${s}.users WHERE $1::text IS NULL OR role = $1::text`),
    sessionInsert: statement('session_insert', `
      INSERT INTO ${s}.sessions (${SESSION_COLUMNS}) VALUES ($1::text, $2::uuid, $3::timestamptz, $4::timestamptz, $5::timestamptz, $6::text)`),
    // The user's columns come prefixed (u_), as both tables have created_at.
    sessionGet: statement('session_get', `
      SELECT ${prefixed('s.', '', SESSION_COLUMNS)}, ${prefixed('u.', 'u_', USER_COLUMNS)}
      FROM ${s}.sessions s JOIN ${s}.users u ON u.id = s.user_id
      WHERE s.token_hash = $1::text AND s.expires_at > $2::timestamptz`),
    sessionUpdate: statement('session_update', `
      UPDATE ${s}.sessions SET expires_at = $2::timestamptz, last_refreshed_at = $3::timestamptz
      WHERE token_hash = $1::text AND expires_at > $3::timestamptz`),
    sessionDelete: statement('session_delete', `DELETE FROM ${s}.sessions WHERE token_hash = $1::text`),
    sessionDeleteForUser: statement('session_delete_for_user', `
      DELETE FROM ${s}.sessions WHERE user_id = $1::uuid AND ($2::text IS NULL OR token_hash <> $2::text)`),
    sessionLiveRoles: statement('session_live_roles', `
      SELECT s.token_hash, u.role FROM ${s}.sessions s JOIN ${s}.users u ON u.id = s.user_id
      WHERE s.token_hash = ANY($1::text[]) AND s.expires_at > $2::timestamptz AND u.is_active`),
    sessionPruneExpired: statement('session_prune_expired', `DELETE FROM ${s}.sessions WHERE expires_at <= $1::timestamptz`),
    accountTokenInsert: statement('account_token_insert', `
      INSERT INTO ${s}.account_tokens (token_hash, kind, user_id, role, created_by, created_at, expires_at)
      VALUES ($1::text, $2::text, $3::uuid, $4::text, $5::uuid, $6::timestamptz, $7::timestamptz)`),
    accountTokenGet: statement('account_token_get', `
      SELECT ${ACCOUNT_TOKEN_COLUMNS} FROM ${s}.account_tokens
      WHERE token_hash = $1::text AND kind = $2::text AND used_at IS NULL AND expires_at > $3::timestamptz`),
    // The fence (used_at IS NULL) is what makes a token single-use when two requests race with it.
    accountTokenUse: statement('account_token_use', `
      UPDATE ${s}.account_tokens SET used_at = $3::timestamptz
      WHERE token_hash = $1::text AND kind = $2::text AND used_at IS NULL AND expires_at > $3::timestamptz
      RETURNING ${ACCOUNT_TOKEN_COLUMNS}`),
    accountTokenRelease: statement('account_token_release', `
      UPDATE ${s}.account_tokens SET used_at = NULL WHERE token_hash = $1::text AND used_at IS NOT NULL`),
    // Outstanding tokens are few (each expires within days and is pruned): no index beyond the key.
    accountTokenList: statement('account_token_list', `
      SELECT ${ACCOUNT_TOKEN_COLUMNS} FROM ${s}.account_tokens
      WHERE kind = $1::text AND used_at IS NULL AND expires_at > $2::timestamptz
      ORDER BY created_at DESC, token_hash LIMIT $3::int`),
    accountTokenRevoke: statement('account_token_revoke', `
      DELETE FROM ${s}.account_tokens WHERE token_hash = $1::text AND kind = $2::text AND used_at IS NULL AND expires_at > $3::timestamptz`),
    accountTokenPruneExpired: statement('account_token_prune_expired', `DELETE FROM ${s}.account_tokens WHERE expires_at <= $1::timestamptz`),
  };
}
