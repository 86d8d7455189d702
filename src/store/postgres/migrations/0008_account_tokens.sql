-- One-time account tokens (version 8): invitations (registration under auth.registration=invite) and
-- admin-issued password resets. Only the SHA-256 of a token is stored, as for sessions; used_at makes
-- each token single-use (set by one fenced UPDATE).

CREATE TABLE :schema.account_tokens (
  token_hash text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('invitation', 'password_reset')),
  user_id uuid REFERENCES :schema.users (id) ON DELETE CASCADE,  -- a reset's account
  role text CHECK (role IN ('user', 'moderator', 'admin')),       -- an invitation's role
  created_by uuid REFERENCES :schema.users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX account_tokens_expires_idx ON :schema.account_tokens (expires_at);
