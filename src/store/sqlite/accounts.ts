import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import type { AccountTokenKind, AccountTokenRecord, NewUser, SessionRecord, UserRecord, UserRole } from '../engine.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { isUniqueViolation } from './sqlite-errors.ts';
import { rowToAccountToken, rowToSession, rowToUser, type AccountTokenRow, type SessionRow, type UserRow } from './sqlite-rows.ts';

/** Users, their sessions, and one-time account tokens (invitations, password resets). */
export class AccountStore {
  readonly #c: SqliteConnection;

  constructor(c: SqliteConnection) {
    this.#c = c;
  }

  async userInsert(p: { user: NewUser }): Promise<UserRecord> {
    const u = p.user;
    const createdAt = u.createdAt.getTime();
    return this.#c.write('userInsert', () => {
      try {
        this.#c.prepare(USER_INSERT).run({ id: u.id, username: u.username, email: u.email, passwordHash: u.passwordHash, role: u.role, createdAt });
      } catch (error) {
        if (isUniqueViolation(error)) throw userConflict(error);
        throw error;
      }
      return { ...u, createdAt: new Date(createdAt), isActive: true, updatedAt: new Date(createdAt), lastLoginAt: null };
    });
  }

  userGet(p: { id: string }): Promise<UserRecord | null> {
    return this.#c.run('userGet', () => {
      const row = this.#c.prepare(USER_GET).get(p.id) as UserRow | undefined;
      return row === undefined ? null : rowToUser(row);
    });
  }

  userFind(p: { login: string }): Promise<UserRecord | null> {
    return this.#c.run('userFind', () => {
      const row = this.#c.prepare(USER_FIND).get({ login: p.login }) as UserRow | undefined;
      return row === undefined ? null : rowToUser(row);
    });
  }

  userList(p: { limit: number; offset: number }): Promise<UserRecord[]> {
    return this.#c.run('userList', () => (this.#c.prepare(USER_LIST).all(p.limit, p.offset) as UserRow[]).map(rowToUser));
  }

  userUpdate(p: { id: string; changes: Partial<Pick<UserRecord, 'role' | 'isActive' | 'passwordHash' | 'lastLoginAt'>>; now: Date }): Promise<UserRecord | null> {
    const sets = ['updated_at = @now'];
    const params: Record<string, string | number | null> = { id: p.id, now: p.now.getTime() };
    const { role, isActive, passwordHash, lastLoginAt } = p.changes;
    if (role !== undefined) {
      sets.push('role = @role');
      params.role = role;
    }
    if (isActive !== undefined) {
      sets.push('is_active = @isActive');
      params.isActive = isActive ? 1 : 0;
    }
    if (passwordHash !== undefined) {
      sets.push('password_hash = @passwordHash');
      params.passwordHash = passwordHash;
    }
    if (lastLoginAt !== undefined) {
      sets.push('last_login_at = @lastLoginAt');
      params.lastLoginAt = lastLoginAt === null ? null : lastLoginAt.getTime();
    }
    const text = `UPDATE users SET ${sets.join(', ')} WHERE id = @id RETURNING *`;
    return this.#c.write('userUpdate', () => {
      const row = this.#c.prepare(text).get(params) as UserRow | undefined;
      return row === undefined ? null : rowToUser(row);
    });
  }

  userCount(p: { role?: UserRole }): Promise<number> {
    return this.#c.run('userCount', () => (this.#c.prepare(USER_COUNT).get({ role: p.role ?? null }) as { n: number }).n);
  }

  async sessionInsert(p: { session: SessionRecord }): Promise<void> {
    const s = p.session;
    const params = {
      tokenHash: s.tokenHash,
      userId: s.userId,
      createdAt: s.createdAt.getTime(),
      expiresAt: s.expiresAt.getTime(),
      lastRefreshedAt: s.lastRefreshedAt === null ? null : s.lastRefreshedAt.getTime(),
      userAgent: s.userAgent,
    };
    await this.#c.write('sessionInsert', () => {
      try {
        this.#c.prepare(SESSION_INSERT).run(params);
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConveyorError(ERROR_CODES.CONFLICT, 'a session with this token already exists', { field: 'tokenHash', cause: error });
        throw error;
      }
    });
  }

  sessionGet(p: { tokenHash: string; now: Date }): Promise<{ session: SessionRecord; user: UserRecord } | null> {
    return this.#c.run('sessionGet', () => {
      const row = this.#c.prepare(SESSION_GET).get({ tokenHash: p.tokenHash, now: p.now.getTime() }) as SessionRow | undefined;
      if (row === undefined) return null;
      const user = this.#c.prepare(USER_GET).get(row.user_id) as UserRow | undefined;
      return user === undefined ? null : { session: rowToSession(row), user: rowToUser(user) };
    });
  }

  sessionUpdate(p: { tokenHash: string; expiresAt: Date; now: Date }): Promise<boolean> {
    const params = { tokenHash: p.tokenHash, expiresAt: p.expiresAt.getTime(), now: p.now.getTime() };
    return this.#c.write('sessionUpdate', () => this.#c.prepare(SESSION_UPDATE).run(params).changes > 0);
  }

  sessionDelete(p: { tokenHash: string }): Promise<boolean> {
    return this.#c.write('sessionDelete', () => this.#c.prepare(SESSION_DELETE).run(p.tokenHash).changes > 0);
  }

  sessionDeleteForUser(p: { userId: string; keepTokenHash?: string }): Promise<number> {
    return this.#c.write('sessionDeleteForUser', () => this.#c.prepare(SESSION_DELETE_FOR_USER).run({ userId: p.userId, keep: p.keepTokenHash ?? null }).changes);
  }

  sessionLiveRoles(p: { tokenHashes: string[]; now: Date }): Promise<{ tokenHash: string; role: UserRole }[]> {
    return this.#c.run('sessionLiveRoles', () => {
      const rows = this.#c.prepare(SESSION_LIVE_ROLES).all({ hashes: JSON.stringify(p.tokenHashes), now: p.now.getTime() }) as { token_hash: string; role: UserRole }[];
      return rows.map((r) => ({ tokenHash: r.token_hash, role: r.role }));
    });
  }

  sessionPruneExpired(p: { now: Date }): Promise<number> {
    return this.#c.write('sessionPruneExpired', () => this.#c.prepare(SESSION_PRUNE).run(p.now.getTime()).changes);
  }

  async accountTokenInsert(p: { token: AccountTokenRecord }): Promise<void> {
    const t = p.token;
    const params = { tokenHash: t.tokenHash, kind: t.kind, userId: t.userId, role: t.role, createdBy: t.createdBy, createdAt: t.createdAt.getTime(), expiresAt: t.expiresAt.getTime() };
    await this.#c.write('accountTokenInsert', () => this.#c.prepare(ACCOUNT_TOKEN_INSERT).run(params));
  }

  accountTokenGet(p: { tokenHash: string; kind: AccountTokenKind; now: Date }): Promise<AccountTokenRecord | null> {
    return this.#c.run('accountTokenGet', () => {
      const row = this.#c.prepare(ACCOUNT_TOKEN_GET).get({ tokenHash: p.tokenHash, kind: p.kind, now: p.now.getTime() }) as AccountTokenRow | undefined;
      return row === undefined ? null : rowToAccountToken(row);
    });
  }

  accountTokenUse(p: { tokenHash: string; kind: AccountTokenKind; now: Date }): Promise<AccountTokenRecord | null> {
    return this.#c.write('accountTokenUse', () => {
      const row = this.#c.prepare(ACCOUNT_TOKEN_USE).get({ tokenHash: p.tokenHash, kind: p.kind, now: p.now.getTime() }) as AccountTokenRow | undefined;
      return row === undefined ? null : rowToAccountToken(row);
    });
  }

  accountTokenRelease(p: { tokenHash: string }): Promise<boolean> {
    return this.#c.write('accountTokenRelease', () => this.#c.prepare(ACCOUNT_TOKEN_RELEASE).run(p.tokenHash).changes > 0);
  }

  accountTokenList(p: { kind: AccountTokenKind; now: Date; limit: number }): Promise<AccountTokenRecord[]> {
    return this.#c.run('accountTokenList', () =>
      (this.#c.prepare(ACCOUNT_TOKEN_LIST).all({ kind: p.kind, now: p.now.getTime(), limit: p.limit }) as AccountTokenRow[]).map(rowToAccountToken),
    );
  }

  accountTokenRevoke(p: { tokenHash: string; kind: AccountTokenKind; now: Date }): Promise<boolean> {
    return this.#c.write('accountTokenRevoke', () => this.#c.prepare(ACCOUNT_TOKEN_REVOKE).run({ tokenHash: p.tokenHash, kind: p.kind, now: p.now.getTime() }).changes > 0);
  }

  accountTokenPruneExpired(p: { now: Date }): Promise<number> {
    return this.#c.write('accountTokenPruneExpired', () => this.#c.prepare(ACCOUNT_TOKEN_PRUNE).run(p.now.getTime()).changes);
  }
}

const USER_INSERT = `
  INSERT INTO users (id, username, email, password_hash, role, is_active, created_at, updated_at)
  VALUES (@id, @username, @email, @passwordHash, @role, 1, @createdAt, @createdAt)`;

const USER_GET = `SELECT * FROM users WHERE id = ?`;

const USER_FIND = `
  SELECT * FROM users WHERE lower(username) = lower(@login) OR lower(email) = lower(@login)
   ORDER BY lower(username) = lower(@login) DESC LIMIT 1`;

const USER_LIST = `SELECT * FROM users ORDER BY created_at, id LIMIT ? OFFSET ?`;

const USER_COUNT = `SELECT COUNT(*) AS n FROM users WHERE @role IS NULL OR role = @role`;

const SESSION_INSERT = `
  INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_refreshed_at, user_agent)
  VALUES (@tokenHash, @userId, @createdAt, @expiresAt, @lastRefreshedAt, @userAgent)`;

const SESSION_GET = `SELECT * FROM sessions WHERE token_hash = @tokenHash AND expires_at > @now`;

const SESSION_UPDATE = `
  UPDATE sessions SET expires_at = @expiresAt, last_refreshed_at = @now
   WHERE token_hash = @tokenHash AND expires_at > @now`;

const SESSION_DELETE = `DELETE FROM sessions WHERE token_hash = ?`;

const SESSION_DELETE_FOR_USER = `DELETE FROM sessions WHERE user_id = @userId AND (@keep IS NULL OR token_hash <> @keep)`;

const SESSION_LIVE_ROLES = `
  SELECT s.token_hash, u.role FROM sessions s JOIN users u ON u.id = s.user_id
   WHERE s.token_hash IN (SELECT value FROM json_each(@hashes)) AND s.expires_at > @now AND u.is_active = 1`;

const SESSION_PRUNE = `DELETE FROM sessions WHERE expires_at <= ?`;

const ACCOUNT_TOKEN_INSERT = `
  INSERT INTO account_tokens (token_hash, kind, user_id, role, created_by, created_at, expires_at)
  VALUES (@tokenHash, @kind, @userId, @role, @createdBy, @createdAt, @expiresAt)`;

const ACCOUNT_TOKEN_GET = `
  SELECT * FROM account_tokens WHERE token_hash = @tokenHash AND kind = @kind AND used_at IS NULL AND expires_at > @now`;

// The fence (used_at IS NULL) keeps a token single-use, as on PostgreSQL.
const ACCOUNT_TOKEN_USE = `
  UPDATE account_tokens SET used_at = @now
   WHERE token_hash = @tokenHash AND kind = @kind AND used_at IS NULL AND expires_at > @now
  RETURNING *`;

const ACCOUNT_TOKEN_RELEASE = `UPDATE account_tokens SET used_at = NULL WHERE token_hash = ? AND used_at IS NOT NULL`;

// Outstanding tokens are few (each expires within days and is pruned): no index beyond the key.
const ACCOUNT_TOKEN_LIST = `
  SELECT * FROM account_tokens WHERE kind = @kind AND used_at IS NULL AND expires_at > @now
  ORDER BY created_at DESC, token_hash LIMIT @limit`;

const ACCOUNT_TOKEN_REVOKE = `
  DELETE FROM account_tokens WHERE token_hash = @tokenHash AND kind = @kind AND used_at IS NULL AND expires_at > @now`;

const ACCOUNT_TOKEN_PRUNE = `DELETE FROM account_tokens WHERE expires_at <= ?`;

function userConflict(error: unknown): ConveyorError {
  const message = error instanceof Error ? error.message : '';
  const field = /email/i.test(message) ? 'email' : /username/i.test(message) ? 'username' : 'id';
  return new ConveyorError(ERROR_CODES.CONFLICT, `a user with this ${field} already exists`, { field, cause: error });
}
