-- API keys: other systems call the organizer routes of one organization with a key's secret
-- (`Authorization: Bearer cvk_<public_id>_<secret>`). Only the secret's SHA-256 is kept; the
-- secret itself is answered once, when the key is created.

CREATE TABLE api_keys (
    id              uuid PRIMARY KEY,
    organization_id text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- The 12 hex digits after `cvk_`: how a presented secret finds its row, and what lists show.
    public_id       text NOT NULL UNIQUE,
    secret_hash     bytea NOT NULL,
    name            text NOT NULL,
    -- Among conferences:read, conferences:write, registrations:read, registrations:review,
    -- payments:read, payments:write (checked by the gateway).
    scopes          text[] NOT NULL,
    -- The administrator's account id (text: tokens issued by an operator may name other ids).
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    -- Written at most once a minute per key.
    last_used_at    timestamptz,
    revoked_at      timestamptz,
    revoked_by      text
);
CREATE INDEX api_keys_organization ON api_keys (organization_id, created_at);
