-- Per-organization platform credentials, meetings as planned, their state on each platform,
-- live streams, and the webhooks already handled.

-- One row per organization and platform. `public` holds the identifiers (account id, client id,
-- AppId, appKey, creator); `sealed` the secrets (AES-GCM, bound to organization and platform).
-- `lookup` is what a webhook names the organization by (Zoom's account id).
CREATE TABLE credentials (
    organization_id text NOT NULL,
    platform text NOT NULL CHECK (platform IN ('zoom', 'tencent', 'dingtalk')),
    public jsonb NOT NULL,
    sealed text NOT NULL,
    lookup text NOT NULL,
    webhook_verification boolean NOT NULL DEFAULT false,
    set_by text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, platform)
);
CREATE INDEX credentials_lookup ON credentials (platform, lookup);

-- Enterprise meetings as scheduling announced them (the highest sequence seen).
CREATE TABLE meetings (
    meeting_id text PRIMARY KEY,
    organization_id text,
    sequence integer NOT NULL,
    plan jsonb NOT NULL,
    cancelled boolean NOT NULL DEFAULT false,
    correlation_id text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A meeting on one platform: what should be (`desired`: present at `desired_sequence`, or
-- absent) and what is. A row is claimed (`working`, with a lease) and committed before the
-- platform is called, so a redelivered event or a second instance never calls twice for it.
CREATE TABLE provisions (
    meeting_id text NOT NULL REFERENCES meetings (meeting_id) ON DELETE CASCADE,
    platform text NOT NULL CHECK (platform IN ('zoom', 'tencent', 'dingtalk')),
    organization_id text,
    desired text NOT NULL CHECK (desired IN ('present', 'absent')),
    desired_sequence integer NOT NULL,
    synced_sequence integer,
    status text NOT NULL CHECK (status IN ('pending', 'working', 'provisioned', 'failed', 'removed')),
    platform_meeting_id text,
    meeting_number text,
    join_url text,
    password text,
    -- The host's start URL (a secret: it starts the meeting as host), sealed.
    start_url_sealed text,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,
    last_error text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, platform)
);
CREATE INDEX provisions_due ON provisions (next_attempt_at) WHERE status = 'pending';
CREATE INDEX provisions_leased ON provisions (lease_until) WHERE status = 'working';
CREATE INDEX provisions_platform_id ON provisions (platform, platform_meeting_id);

-- A meeting's live stream: the push address (RTMP URL and key) sealed, the watch link public.
CREATE TABLE live_streams (
    organization_id text NOT NULL,
    meeting_id text NOT NULL,
    provider text NOT NULL CHECK (provider IN ('bilibili', 'wechat_channels')),
    push_sealed text NOT NULL,
    watch_url text NOT NULL,
    set_by text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, meeting_id)
);

-- Webhooks acted on (by platform and a digest of the raw body), so a resent one does nothing;
-- forgotten after a week.
CREATE TABLE webhook_events (
    platform text NOT NULL,
    digest text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, digest)
);
