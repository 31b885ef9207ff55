-- Conferences as registration knows them (from scheduling's events), their registration
-- settings, and the registrations.

CREATE TABLE conferences (
    id                      uuid PRIMARY KEY,
    organization_id         text NOT NULL,
    title                   text NOT NULL,
    starts_at               timestamptz NOT NULL,
    ends_at                 timestamptz NOT NULL,
    time_zone               text NOT NULL,
    registration_opens_at   timestamptz NOT NULL,
    registration_closes_at  timestamptz NOT NULL,
    cancelled               boolean NOT NULL DEFAULT false,
    -- The scheduling sequence last applied: older events are ignored.
    sequence                integer NOT NULL,
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- One row per conference. Every transaction that takes or frees a seat locks it first, so seat
-- decisions are serialized per conference: no overselling whatever the concurrency.
CREATE TABLE registration_settings (
    conference_id   uuid PRIMARY KEY REFERENCES conferences (id),
    organization_id text NOT NULL,
    settings        jsonb NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE waitlist_positions;

CREATE TABLE registrations (
    id                  uuid PRIMARY KEY,
    conference_id       uuid NOT NULL REFERENCES conferences (id),
    organization_id     text NOT NULL,
    account_id          text NOT NULL,
    email               text NOT NULL,
    name                text NOT NULL,
    locale              text NOT NULL,
    category            text NOT NULL,
    status              text NOT NULL,
    price_minor         bigint NOT NULL,
    currency            text NOT NULL,
    paid_minor          bigint NOT NULL DEFAULT 0,
    refunded_minor      bigint NOT NULL DEFAULT 0,
    answers             jsonb NOT NULL,
    invoice             jsonb,
    consent_to_contact  boolean NOT NULL DEFAULT false,
    offer_expires_at    timestamptz,
    waitlist_position   bigint,
    review              jsonb,
    submitted_at        timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
-- One registration in progress per account and conference.
CREATE UNIQUE INDEX registrations_active ON registrations (conference_id, account_id)
    WHERE status NOT IN ('rejected', 'withdrawn', 'cancelled', 'expired');
CREATE INDEX registrations_seats ON registrations (conference_id, category)
    WHERE status IN ('awaiting_payment', 'confirmed', 'offered');
CREATE INDEX registrations_waitlist ON registrations (conference_id, waitlist_position) WHERE status = 'waitlisted';
CREATE INDEX registrations_offers ON registrations (offer_expires_at) WHERE status = 'offered';
CREATE INDEX registrations_account ON registrations (account_id, submitted_at DESC);
CREATE INDEX registrations_conference ON registrations (conference_id, submitted_at);
