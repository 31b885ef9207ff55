-- Idempotency-Key: the first answer to a POST, replayed to a retry with the same key for 24 h.

CREATE TABLE idempotency_keys (
    -- Whose key: an account id, an API key's id, or 'anonymous' (sign-up).
    scope           text NOT NULL,
    key             text NOT NULL,
    -- SHA-256 of method, path, content type and body: the same key with another request is refused.
    fingerprint     bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    status          integer,
    headers         jsonb,
    body            bytea,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
