-- Enterprise meetings (kinds internal, client, large_event) in the same meetings table as
-- conferences: their lifecycle statuses, host, platforms and room; rooms; agenda items;
-- materials; each platform's join link or failure.
--
-- Double-booking a room is refused by the database: an exclusion constraint over the room and
-- the time range of every meeting that is not cancelled. It needs btree_gist (uuid equality in a
-- GiST index), which compose/postgres/create-schemas.sh installs as the superuser in the schema
-- `extensions` (the scheduling role may not create extensions: it has no CREATE on the
-- database); the statement below is a no-op where it exists.
CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA extensions;

ALTER TABLE meetings DROP CONSTRAINT meetings_status_check;
ALTER TABLE meetings ADD CONSTRAINT meetings_status_check
    CHECK (status IN ('draft', 'published', 'scheduled', 'live', 'ended', 'cancelled'));

CREATE TABLE rooms (
    id               uuid PRIMARY KEY,
    organization_id  text NOT NULL,
    name             text NOT NULL,
    capacity         integer NOT NULL CHECK (capacity > 0),
    location         text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, name)
);

ALTER TABLE meetings
    ADD COLUMN room_id              uuid REFERENCES rooms (id),
    ADD COLUMN host                 jsonb,
    ADD COLUMN platforms            text[] NOT NULL DEFAULT '{}',
    ADD COLUMN recommended_platform text,
    ADD COLUMN expected_attendees   integer,
    ADD COLUMN started_at           timestamptz,
    ADD COLUMN ended_at             timestamptz,
    ADD CONSTRAINT meetings_enterprise_host CHECK (kind = 'conference' OR host IS NOT NULL);

ALTER TABLE meetings ADD CONSTRAINT meetings_room_not_double_booked
    EXCLUDE USING gist (room_id extensions.gist_uuid_ops WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (room_id IS NOT NULL AND status <> 'cancelled');

CREATE TABLE agenda_items (
    meeting_id  uuid NOT NULL REFERENCES meetings (id),
    position    integer NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    topic       text NOT NULL,
    owner       text,
    PRIMARY KEY (meeting_id, position),
    CHECK (ends_at > starts_at)
);

CREATE TABLE materials (
    id            uuid PRIMARY KEY,
    meeting_id    uuid NOT NULL REFERENCES meetings (id),
    name          text NOT NULL,
    content_type  text NOT NULL,
    size          bigint NOT NULL CHECK (size >= 0),
    blob_key      text NOT NULL,
    added_by      text NOT NULL,
    added_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX materials_meeting ON materials (meeting_id, added_at, id);

-- What platform-bridge answered for each platform of a meeting: the latest sequence wins.
CREATE TABLE platform_links (
    meeting_id           uuid NOT NULL REFERENCES meetings (id),
    platform             text NOT NULL,
    sequence             integer NOT NULL,
    outcome              text NOT NULL CHECK (outcome IN ('provisioned', 'failed')),
    platform_meeting_id  text,
    meeting_number       text,
    join_url             text,
    password             text,
    reason               text,
    message              text,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, platform)
);
