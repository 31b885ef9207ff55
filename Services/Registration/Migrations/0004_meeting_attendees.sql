-- Enterprise meetings (internal, client, large event) as registration knows them from
-- scheduling's events, their join links from platform-bridge, and their attendees.

CREATE TABLE meetings (
    id               uuid PRIMARY KEY,
    organization_id  text NOT NULL,
    -- `internal`, `client` or `large_event`.
    kind             text NOT NULL,
    -- The scheduling sequence last applied: older events are ignored.
    sequence         integer NOT NULL,
    -- The MeetingPlan as scheduling announced it.
    plan             jsonb NOT NULL,
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    cancelled        boolean NOT NULL DEFAULT false,
    cancel_reason    text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One link per meeting and platform (no reference to meetings: platform-bridge may answer
-- before registration has read the meeting's own event).
CREATE TABLE meeting_join_links (
    meeting_id           uuid NOT NULL,
    platform             text NOT NULL,
    sequence             integer NOT NULL,
    platform_meeting_id  text NOT NULL,
    meeting_number       text,
    join_url             text NOT NULL,
    password             text,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, platform)
);

CREATE TABLE meeting_attendees (
    id                uuid PRIMARY KEY,
    meeting_id        uuid NOT NULL REFERENCES meetings (id),
    organization_id   text NOT NULL,
    -- Lower-cased: the key of an attendee within a meeting, and how a signed-in account is matched.
    email             text NOT NULL,
    name              text NOT NULL,
    phone             text,
    department        text,
    role              text NOT NULL CHECK (role IN ('required', 'optional', 'observer')),
    dingtalk_user_id  text,
    locale            text,
    response          text NOT NULL DEFAULT 'pending' CHECK (response IN ('pending', 'accepted', 'declined', 'tentative')),
    responded_at      timestamptz,
    comment           text,
    -- The credential of the invitation mail's answer link (compared in constant time).
    rsvp_token        text NOT NULL,
    -- The meeting's sequence of the last invitation sent; null before the first.
    invited_sequence  integer,
    -- The recommended join link the last invitation carried (a later one sends an update).
    invited_join_url  text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (meeting_id, email)
);
CREATE INDEX meeting_attendees_list ON meeting_attendees (meeting_id, created_at, id);
CREATE INDEX meeting_attendees_email ON meeting_attendees (email);
