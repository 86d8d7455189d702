import type { Clock } from '../core/clock.ts';
import { ConveyorError, ERROR_CODES, isConveyorError } from '../core/errors.ts';
import { uuidv7 } from '../core/id.ts';
import type { Logger } from '../core/logger.ts';
import type { Engine, SessionRecord, UserRecord, UserRole } from '../store/engine.ts';
import { checkEmail, checkUsername } from './account-rules.ts';
import type { AuthConfig } from './auth-config.ts';
import { AuthError, invalidCredentials } from './auth-error.ts';
import { LoginThrottle } from './login-throttle.ts';
import { PasswordHasher } from './password-hasher.ts';
import { checkPassword } from './password-policy.ts';
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
    // Usernames cannot contain '@', so neither lookup can match the other kind of name.
    if (await this.#engine.userFind({ login: username })) throw conflict('username', 'is already taken');
    if (await this.#engine.userFind({ login: email })) throw conflict('email', 'is already registered');
    const now = this.#clock.now();
    const passwordHash = await this.#hasher.hash(account.password);
    return this.#engine.userInsert({ user: { id: uuidv7(now.getTime()), username, email, passwordHash, role: account.role ?? 'user', createdAt: now } });
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
    this.#throttle.recordSuccess(account);

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

function conflict(field: string, problem: string): ConveyorError {
  return new ConveyorError(ERROR_CODES.CONFLICT, `${field} ${problem}`, { field });
}
