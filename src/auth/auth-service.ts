import type { Clock } from '../core/clock.ts';
import { ConveyorError, ERROR_CODES, isConveyorError, validationError } from '../core/errors.ts';
import { uuidv7 } from '../core/id.ts';
import type { Logger } from '../core/logger.ts';
import type { AccountTokenKind, AccountTokenRecord, Engine, SessionRecord, UserRecord, UserRole } from '../store/engine.ts';
import { checkEmail, checkUsername } from './account-rules.ts';
import type { AuthConfig } from './auth-config.ts';
import { AuthError, forbidden, invalidCredentials } from './auth-error.ts';
import { LoginThrottle } from './login-throttle.ts';
import { PasswordHasher } from './password-hasher.ts';
import { checkPassword } from './password-policy.ts';
import { hasRole } from './roles.ts';
import { hashSessionToken, looksLikeSessionToken, newSessionToken } from './session-token.ts';

export interface AuthServiceDeps {
  engine: Engine;
  config: AuthConfig;
  clock: Clock;
  logger: Logger;
}

export interface NewAccount {
  username: string;
  email: string;
  password: string;
  role?: UserRole;
}

export interface Authenticated {
  user: UserRecord;
  session: SessionRecord;
}

export interface LoginResult extends Authenticated {
  /** The bearer token; returned once, never stored. */
  token: string;
}

/** A one-time token just issued (an invitation or a password reset); the token is shown once. */
export interface IssuedToken {
  /** The token's SHA-256 (what is stored): names it in lists and to revoke it, and cannot be used in its place. */
  id: string;
  token: string;
  expiresAt: Date;
}

/** How many open invitations a list shows at most, newest first (each expires within days). */
export const INVITATIONS_LISTED = 1000;

/** The answer to a taken username or email: the same for both, so registration tells nobody which exists. */
export const UNAVAILABLE_MESSAGE = 'username or email is unavailable; choose another';

/** Accounts and sessions: everything the API's auth routes and the CLI's `users create` do. */
export class AuthService {
  readonly #engine: Engine;
  readonly #config: AuthConfig;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #hasher: PasswordHasher;
  readonly #throttle: LoginThrottle;

  constructor(deps: AuthServiceDeps) {
    this.#engine = deps.engine;
    this.#config = deps.config;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#hasher = new PasswordHasher(deps.config.argon2);
    this.#throttle = new LoginThrottle(deps.config.loginThrottle, deps.clock);
  }

  /** Creates an account after checking the username, email and password rules. Role defaults to user. */
  async createUser(account: NewAccount): Promise<UserRecord> {
    const username = account.username.trim();
    const email = account.email.trim();
    checkUsername(username);
    checkEmail(email);
    checkPassword(account.password, this.#config.password, { username, email });
    // Hashed first, so that a taken name answers after the same work as a free one.
    const passwordHash = await this.#hasher.hash(account.password);
    // Usernames cannot contain '@', so neither lookup can match the other kind of name. Either one
    // taken gives the same answer: the 409 must not say which of the two exists.
    if ((await this.#engine.userFind({ login: username })) || (await this.#engine.userFind({ login: email }))) throw unavailable();
    const now = this.#clock.now();
    try {
      return await this.#engine.userInsert({ user: { id: uuidv7(now.getTime()), username, email, passwordHash, role: account.role ?? 'user', createdAt: now } });
    } catch (error) {
      // Two registrations racing for one name: the loser gets the same answer.
      if (isConveyorError(error, ERROR_CODES.CONFLICT)) throw unavailable(error);
      throw error;
    }
  }

  /**
   * Registration through the API, under the configured policy: `open` takes anyone, `invite` needs an
   * unused invitation (checked before anything about the account is, so a stranger learns nothing;
   * used up only when the account is made, and its role is the account's), `closed` takes nobody.
   */
  async register(account: { username: string; email: string; password: string }, invitationToken: string | undefined): Promise<UserRecord> {
    const policy = this.#config.registration;
    if (policy === 'closed') throw forbidden('Registration is closed on this server; ask an admin for an account');
    // Under `open` an invitation is optional; given, it is used (and grants its role).
    if (policy === 'open' && invitationToken === undefined) return this.createUser(account);
    if (invitationToken === undefined) throw forbidden('Registration needs an invitation on this server: give invitation_token', 'invitation_token');
    const tokenHash = hashSessionToken(invitationToken);
    const invitation = looksLikeSessionToken(invitationToken) ? await this.#engine.accountTokenGet({ tokenHash, kind: 'invitation', now: this.#clock.now() }) : null;
    if (!invitation) throw badToken('invitation_token');
    // The checks that need no database run before the invitation is spent.
    checkUsername(account.username.trim());
    checkEmail(account.email.trim());
    checkPassword(account.password, this.#config.password, { username: account.username.trim(), email: account.email.trim() });
    if (!(await this.#engine.accountTokenUse({ tokenHash, kind: 'invitation', now: this.#clock.now() }))) throw badToken('invitation_token');
    try {
      return await this.createUser({ ...account, role: invitation.role ?? 'user' });
    } catch (error) {
      // The account was not made (a taken name): the invitation stays usable.
      await this.#engine.accountTokenRelease({ tokenHash });
      throw error;
    }
  }

  /**
   * An invitation to register with `role`. Moderators and admins issue them; only an admin may invite
   * someone to a role above user. `by` null is the operator at the CLI, who may invite any role. The
   * token is returned once; only its hash is stored.
   */
  async invite(p: { by: UserRecord | null; role: UserRole; ttlMs?: number | undefined }): Promise<IssuedToken> {
    assertInviter(p.by);
    if (!mayInvite(p.by, p.role)) throw forbidden(`role: only an admin may invite a ${p.role}`, 'role');
    return this.#issue({ kind: 'invitation', userId: null, role: p.role, by: p.by?.id ?? null, ttlMs: p.ttlMs ?? this.#config.invitationTtlMs });
  }

  /**
   * The invitations still open (unused, unexpired), newest first: those `by` could have issued, so a
   * moderator sees invitations to the user role only.
   */
  async invitations(p: { by: UserRecord | null }): Promise<AccountTokenRecord[]> {
    assertInviter(p.by);
    const open = await this.#engine.accountTokenList({ kind: 'invitation', now: this.#clock.now(), limit: INVITATIONS_LISTED });
    return open.filter((invitation) => invitation.role !== null && mayInvite(p.by, invitation.role));
  }

  /**
   * Revokes an open invitation `by` could have issued: it can never be used. False when there is no
   * such invitation: unknown, used, expired, or one to a role above user asked by a moderator (who
   * does not see those either).
   */
  async revokeInvitation(p: { by: UserRecord | null; id: string }): Promise<boolean> {
    assertInviter(p.by);
    const now = this.#clock.now();
    const invitation = await this.#engine.accountTokenGet({ tokenHash: p.id, kind: 'invitation', now });
    if (invitation?.role == null || !mayInvite(p.by, invitation.role)) return false;
    const revoked = await this.#engine.accountTokenRevoke({ tokenHash: p.id, kind: 'invitation', now });
    if (revoked) this.#logger.info({ by: p.by?.id ?? 'cli', role: invitation.role }, 'invitation revoked');
    return revoked;
  }

  /** A one-time password reset for `userId`, issued by an admin (the API's users page, or the CLI: `by` null). */
  async issuePasswordReset(p: { userId: string; by: string | null; ttlMs?: number | undefined }): Promise<IssuedToken> {
    const user = await this.#engine.userGet({ id: p.userId });
    if (!user) throw new ConveyorError(ERROR_CODES.NOT_FOUND, 'User not found', { field: 'id' });
    return this.#issue({ kind: 'password_reset', userId: user.id, role: null, by: p.by, ttlMs: p.ttlMs ?? this.#config.passwordResetTtlMs });
  }

  /**
   * Uses a password reset: sets the new password (under the one password policy) and ends every
   * session of the account. The token works once.
   */
  async resetPassword(p: { token: string; newPassword: string }): Promise<{ user: UserRecord; sessionsEnded: number }> {
    const tokenHash = hashSessionToken(p.token);
    const now = this.#clock.now();
    const pending = looksLikeSessionToken(p.token) ? await this.#engine.accountTokenGet({ tokenHash, kind: 'password_reset', now }) : null;
    const user = pending?.userId ? await this.#engine.userGet({ id: pending.userId }) : null;
    if (!pending || !user) throw badToken('token');
    checkPassword(p.newPassword, this.#config.password, { username: user.username, email: user.email });
    if (!(await this.#engine.accountTokenUse({ tokenHash, kind: 'password_reset', now }))) throw badToken('token');
    return this.#setPassword(user, p.newPassword, undefined);
  }

  /**
   * Changes the caller's password: the current one is required (and checked under the login throttle,
   * so this is no side door for guessing), the new one follows the policy, and every other session of
   * the account ends; the caller's stays.
   */
  async changePassword(p: { user: UserRecord; session: SessionRecord; currentPassword: string; newPassword: string; address: string }): Promise<{ user: UserRecord; sessionsEnded: number }> {
    const wait = this.#throttle.retryAfterMs(p.user.username, p.address);
    if (wait > 0) throw new AuthError('throttled', 'Too many failed attempts; try again later', wait);
    if (!(await this.#hasher.verify(p.user.passwordHash, p.currentPassword))) {
      this.#throttle.recordFailure(p.user.username, p.address);
      throw forbidden('current_password: is not this account\'s password', 'current_password');
    }
    checkPassword(p.newPassword, this.#config.password, { username: p.user.username, email: p.user.email });
    if (p.newPassword === p.currentPassword) throw validationError('new_password', 'must differ from the current password');
    return this.#setPassword(p.user, p.newPassword, p.session.tokenHash);
  }

  async #setPassword(user: UserRecord, password: string, keepTokenHash: string | undefined): Promise<{ user: UserRecord; sessionsEnded: number }> {
    const passwordHash = await this.#hasher.hash(password);
    const updated = await this.#engine.userUpdate({ id: user.id, changes: { passwordHash }, now: this.#clock.now() });
    if (!updated) throw new ConveyorError(ERROR_CODES.NOT_FOUND, 'User not found', { field: 'id' });
    const sessionsEnded = await this.#engine.sessionDeleteForUser(keepTokenHash === undefined ? { userId: user.id } : { userId: user.id, keepTokenHash });
    this.#logger.info({ userId: user.id, sessionsEnded }, keepTokenHash === undefined ? 'password reset' : 'password changed');
    return { user: updated, sessionsEnded };
  }

  async #issue(p: { kind: AccountTokenKind; userId: string | null; role: UserRole | null; by: string | null; ttlMs: number }): Promise<IssuedToken> {
    const token = newSessionToken();
    const now = this.#clock.now();
    const expiresAt = new Date(now.getTime() + p.ttlMs);
    const tokenHash = hashSessionToken(token);
    await this.#engine.accountTokenInsert({ token: { tokenHash, kind: p.kind, userId: p.userId, role: p.role, createdBy: p.by, createdAt: now, expiresAt, usedAt: null } });
    return { id: tokenHash, token, expiresAt };
  }

  /**
   * Checks a username-or-email and password and opens a session. Every failure (no such user, wrong
   * password, inactive account) gives the same error after the same argon2 work; repeated failures
   * for an account or from an address are throttled.
   */
  async login(p: { login: string; password: string; address: string; userAgent: string | null }): Promise<LoginResult> {
    // Throttled by the name given, known or not: keying known accounts by id would make the throttle
    // answer differently for existing accounts (an enumeration oracle). Username and email then count
    // separately, which at most doubles an attacker's allowance; the per-address limit still holds.
    const account = p.login.trim().toLowerCase();
    const wait = this.#throttle.retryAfterMs(account, p.address);
    if (wait > 0) throw new AuthError('throttled', 'Too many failed logins; try again later', wait);
    const user = await this.#engine.userFind({ login: p.login.trim() });

    const ok = user ? await this.#hasher.verify(user.passwordHash, p.password) : await this.#hasher.verifyDummy(p.password);
    if (!user || !ok || !user.isActive) {
      this.#throttle.recordFailure(account, p.address);
      throw invalidCredentials();
    }
    this.#throttle.recordSuccess(account, p.address);

    const now = this.#clock.now();
    const changes: Parameters<Engine['userUpdate']>[0]['changes'] = { lastLoginAt: now };
    if (this.#hasher.needsRehash(user.passwordHash)) changes.passwordHash = await this.#hasher.hash(p.password);
    const token = newSessionToken();
    const session: SessionRecord = {
      tokenHash: hashSessionToken(token),
      userId: user.id,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.#config.sessionTtlMs),
      lastRefreshedAt: null,
      userAgent: p.userAgent === null ? null : p.userAgent.slice(0, 512),
    };
    await this.#engine.sessionInsert({ session });
    const updated = await this.#engine.userUpdate({ id: user.id, changes, now });
    return { token, session, user: updated ?? user };
  }

  /** The user and session behind a bearer token; null for an unknown, expired or revoked one. */
  async authenticate(token: string): Promise<Authenticated | null> {
    if (!looksLikeSessionToken(token)) return null;
    const found = await this.#engine.sessionGet({ tokenHash: hashSessionToken(token), now: this.#clock.now() });
    if (!found || !found.user.isActive) return null;
    return found;
  }

  async logout(session: SessionRecord): Promise<void> {
    await this.#engine.sessionDelete({ tokenHash: session.tokenHash });
  }

  /** Ends every session of the user, this one included; returns how many. */
  logoutAll(userId: string): Promise<number> {
    return this.#engine.sessionDeleteForUser({ userId });
  }

  /**
   * Extends a session to a full lifetime from now, capped by its absolute lifetime. Refreshing again
   * within `refreshMinIntervalMs` answers a conflict, as the starter did.
   */
  async refresh(session: SessionRecord): Promise<{ expiresAt: Date; refreshedAt: Date }> {
    const now = this.#clock.now();
    const last = session.lastRefreshedAt;
    if (last && now.getTime() - last.getTime() < this.#config.refreshMinIntervalMs) {
      throw new ConveyorError(ERROR_CODES.CONFLICT, `the session was refreshed less than ${Math.round(this.#config.refreshMinIntervalMs / 60_000)} minutes ago`);
    }
    const cap = session.createdAt.getTime() + this.#config.sessionMaxLifetimeMs;
    const expiresAt = new Date(Math.min(now.getTime() + this.#config.sessionTtlMs, cap));
    if (!(await this.#engine.sessionUpdate({ tokenHash: session.tokenHash, expiresAt, now }))) {
      throw new AuthError('unauthenticated', 'The session has ended');
    }
    return { expiresAt, refreshedAt: now };
  }

  /**
   * Creates the configured first admin when no admin exists yet. Several servers starting together
   * may race; the loser's insert conflicts and is ignored.
   */
  async ensureInitialAdmin(): Promise<UserRecord | null> {
    const password = this.#config.initialAdminPassword;
    if (!password) return null;
    if ((await this.#engine.userCount({ role: 'admin' })) > 0) return null;
    try {
      const admin = await this.createUser({ username: this.#config.initialAdminUsername, email: this.#config.initialAdminEmail, password, role: 'admin' });
      this.#logger.info({ userId: admin.id, username: admin.username }, 'created the initial admin');
      return admin;
    } catch (error) {
      if (isConveyorError(error, ERROR_CODES.CONFLICT)) {
        this.#logger.warn({ username: this.#config.initialAdminUsername }, 'initial admin not created: the username or email is taken');
        return null;
      }
      if (isConveyorError(error, ERROR_CODES.VALIDATION)) {
        // A weak configured password must stop the start-up, not create a weak admin.
        throw new ConveyorError(ERROR_CODES.CONFIG, `auth.initial_admin_${error.field}: ${error.message}`, { field: `auth.initial_admin_${error.field}`, cause: error });
      }
      throw error;
    }
  }
}

function unavailable(cause?: unknown): ConveyorError {
  return new ConveyorError(ERROR_CODES.CONFLICT, UNAVAILABLE_MESSAGE, cause === undefined ? {} : { cause });
}

function badToken(field: string): ConveyorError {
  return validationError(field, 'is unknown, expired or already used');
}

/** Invitations are issued, listed and revoked by moderators and admins; `by` null is the operator at the CLI. */
function assertInviter(by: UserRecord | null): void {
  if (by !== null && !hasRole(by.role, 'moderator')) throw forbidden('Invitations are issued by moderators and admins');
}

/** Only an admin (or the operator at the CLI) invites someone to a role above user. */
function mayInvite(by: UserRecord | null, role: UserRole): boolean {
  return by === null || role === 'user' || by.role === 'admin';
}
