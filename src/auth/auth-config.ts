/** The auth section of the API's configuration (see api/api-config.ts for the defaults). */
export interface AuthConfig {
  sessionTtlMs: number;
  /** A session cannot be refreshed past this age (absolute lifetime). */
  sessionMaxLifetimeMs: number;
  /** Refreshing again sooner than this answers 409, as the starter did. */
  refreshMinIntervalMs: number;
  /** When set and no admin exists, an admin named `initialAdminUsername` is created at start-up. */
  initialAdminPassword: string | null;
  initialAdminUsername: string;
  initialAdminEmail: string;
  password: PasswordPolicy;
  /** argon2id cost; OWASP's minimum is m=19 MiB, t=2, p=1. */
  argon2: { memoryKiB: number; timeCost: number; parallelism: number };
  loginThrottle: LoginThrottleConfig;
  /** Registrations allowed per client address per minute (0 = unlimited). */
  registerPerMinute: number;
  /**
   * Who may create an account through POST /auth/register: anyone (`open`), only the holder of an
   * invitation issued by a moderator or admin (`invite`), or nobody (`closed`; accounts come from the
   * CLI). Admins are never made by registration.
   */
  registration: RegistrationPolicy;
  /** How long an invitation can be used. */
  invitationTtlMs: number;
  /** How long an admin-issued password reset can be used. */
  passwordResetTtlMs: number;
}

export const REGISTRATION_POLICIES = ['open', 'invite', 'closed'] as const;
export type RegistrationPolicy = (typeof REGISTRATION_POLICIES)[number];

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
  /** How many of {lower, upper, digit, symbol} a password needs. */
  minClasses: number;
  /** Refuse passwords found in the common-password list. */
  rejectCommon: boolean;
}

export interface LoginThrottleConfig {
  /** Failed logins for one account from one address before that pair is throttled. */
  pairMaxFailures: number;
  /**
   * Failed logins for one account from every address before it is throttled for addresses it has
   * never logged in from (its owner's known addresses are not).
   */
  accountMaxFailures: number;
  /** Failed logins from one address (for any accounts) before it is throttled. */
  addressMaxFailures: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
  /** The first block's length; each further failure doubles it, up to `maxBlockMs`. */
  baseBlockMs: number;
  maxBlockMs: number;
}
