-- One-time account tokens (version 8): invitations (registration under auth.registration=invite) and
-- admin-issued password resets. Only the SHA-256 of a token is stored, as for sessions; used_at makes
-- each token single-use (set by one fenced UPDATE).

CREATE TABLE account_tokens (
  token_hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('invitation', 'password_reset')),
  user_id TEXT REFERENCES users (id) ON DELETE CASCADE,  -- a reset's account
  role TEXT CHECK (role IN ('user', 'moderator', 'admin')), -- an invitation's role
  created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) WITHOUT ROWID;
CREATE INDEX account_tokens_expires_idx ON account_tokens (expires_at);
