-- Accounts, sign-in sessions and login throttling: who may call the API.

CREATE TABLE accounts (
    id                  uuid PRIMARY KEY,
    -- Stored as entered (trimmed); compared lower-cased.
    email               text NOT NULL,
    password_hash       text NOT NULL,
    name                text NOT NULL,
    phone               text,
    affiliation         text,
    title               text,
    locale              text NOT NULL DEFAULT 'zh-CN',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));

-- Opaque refresh tokens, stored as SHA-256 hashes. Each refresh rotates the token: the old row is
-- marked replaced. Presenting a replaced token again means it was copied, so the whole family
-- (one sign-in) is revoked.
CREATE TABLE refresh_tokens (
    id              uuid PRIMARY KEY,
    family_id       uuid NOT NULL,
    account_id      uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash      bytea NOT NULL UNIQUE,
    organization_id text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    replaced_at     timestamptz,
    revoked_at      timestamptz
);
CREATE INDEX refresh_tokens_account ON refresh_tokens (account_id) WHERE revoked_at IS NULL;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Failed sign-ins per key ("account:<email>" or "address:<ip>") in a fixed window.
CREATE TABLE login_throttle (
    key             text PRIMARY KEY,
    failures        integer NOT NULL,
    window_started  timestamptz NOT NULL,
    locked_until    timestamptz
);
