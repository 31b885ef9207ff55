-- Durable timers: one row per thing that must happen to a meeting at a time (a reminder; later
-- its start and end). TimerWorker claims due rows with FOR UPDATE SKIP LOCKED, writes one event
-- per row to the outbox and marks the row fired in the same transaction, so a timer survives
-- restarts and fires once. A meeting has at most one unfired timer of each kind: planning again
-- (a changed start) is an upsert that moves it. Fired rows stay as the record of what went out.

CREATE TABLE timers (
    id          uuid PRIMARY KEY,
    meeting_id  uuid NOT NULL REFERENCES meetings (id),
    -- e.g. reminder_24h: unique per meeting among the unfired ones.
    kind        text NOT NULL CHECK (kind ~ '^[a-z0-9_]{1,60}$'),
    due_at      timestamptz NOT NULL,
    fired_at    timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL;
CREATE UNIQUE INDEX timers_unfired_kind ON timers (meeting_id, kind) WHERE fired_at IS NULL;
CREATE INDEX timers_meeting ON timers (meeting_id);
