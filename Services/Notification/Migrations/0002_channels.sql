-- Robots, outgoing webhooks, the in-app inbox, per-organization rule settings, and deliveries
-- that wait for a time (a retry's back-off, a robot's rate limit).

-- A delivery is 'waiting' until not_before, then queued again by the scheduler.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('queued', 'waiting', 'sending', 'sent', 'failed', 'skipped', 'unconfirmed'));
ALTER TABLE deliveries ADD COLUMN not_before timestamptz;
CREATE INDEX deliveries_waiting ON deliveries (not_before) WHERE status = 'waiting';

ALTER TABLE notifications ADD COLUMN locale text;
ALTER TABLE notifications ADD COLUMN attachments jsonb;

-- Credentials (token or key, and DingTalk's signing secret) are sealed with the service's
-- secret key (AES-GCM, bound to the robot's id): the database alone does not reveal them.
CREATE TABLE robots (
    id uuid PRIMARY KEY,
    organization_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('dingtalk', 'wecom')),
    name text NOT NULL,
    credentials text NOT NULL,
    signed boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, name)
);

-- Messages a robot sent recently: the providers allow 20 a minute per robot.
CREATE TABLE robot_sends (
    robot_id uuid NOT NULL REFERENCES robots (id) ON DELETE CASCADE,
    sent_at timestamptz NOT NULL
);
CREATE INDEX robot_sends_recent ON robot_sends (robot_id, sent_at);

CREATE TABLE webhooks (
    id uuid PRIMARY KEY,
    organization_id text NOT NULL,
    url text NOT NULL,
    event_types text[] NOT NULL,
    description text,
    secret text NOT NULL,
    contact_email text,
    created_by text,
    enabled boolean NOT NULL DEFAULT true,
    disabled_reason text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    failing_since timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_organization ON webhooks (organization_id) WHERE enabled;

CREATE TABLE inbox_items (
    id uuid PRIMARY KEY,
    delivery_id uuid NOT NULL UNIQUE REFERENCES deliveries (id),
    account_id text NOT NULL,
    organization_id text,
    category text NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    link text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    read_at timestamptz
);
CREATE INDEX inbox_items_account ON inbox_items (account_id, created_at DESC, id DESC);
CREATE INDEX inbox_items_unread ON inbox_items (account_id) WHERE read_at IS NULL;

-- An organization's changes to a shipped rule (Rules/rules.json): switched off, other channels.
CREATE TABLE rule_settings (
    organization_id text NOT NULL,
    rule_id text NOT NULL,
    enabled boolean NOT NULL,
    channels text[],
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, rule_id)
);
