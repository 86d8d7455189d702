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
}

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
  /** How many of {lower, upper, digit, symbol} a password needs. */
  minClasses: number;
  /** Refuse passwords found in the common-password list. */
  rejectCommon: boolean;
}

export interface LoginThrottleConfig {
  /** Failed logins for one account (from any address) before it is throttled. */
  accountMaxFailures: number;
  /** Failed logins from one address (for any accounts) before it is throttled. */
  addressMaxFailures: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
  /** The first block's length; each further failure doubles it, up to `maxBlockMs`. */
  baseBlockMs: number;
  maxBlockMs: number;
}
