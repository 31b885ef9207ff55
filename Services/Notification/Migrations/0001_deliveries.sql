-- What was asked (one row per notification.send, deduplicated by its idempotency key) and what
-- happened per recipient and channel. A delivery is 'sending' from the moment before it leaves
-- until the outcome is recorded, so a crash in between is never mistaken for "not sent yet".
CREATE TABLE notifications (
    id uuid PRIMARY KEY,
    source_key text NOT NULL UNIQUE,
    category text NOT NULL,
    transactional boolean NOT NULL,
    template_key text NOT NULL,
    data jsonb NOT NULL,
    organization_id text,
    correlation_id text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deliveries (
    id uuid PRIMARY KEY,
    notification_id uuid NOT NULL REFERENCES notifications (id),
    channel text NOT NULL,
    recipient text NOT NULL,
    recipient_name text,
    locale text,
    status text NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped', 'unconfirmed')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    provider_answer text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (notification_id, channel, recipient)
);
CREATE INDEX deliveries_sending ON deliveries (updated_at) WHERE status = 'sending';

-- Opt-outs per recipient (email address or account id) and category.
CREATE TABLE preferences (
    recipient text NOT NULL,
    category text NOT NULL,
    opted_out boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (recipient, category)
);
