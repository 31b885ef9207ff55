-- Meetings and conferences. Times are instants; time_zone is the IANA zone they were entered in.

CREATE TABLE meetings (
    id                      uuid PRIMARY KEY,
    organization_id         text NOT NULL,
    kind                    text NOT NULL CHECK (kind IN ('conference', 'internal', 'client', 'large_event')),
    status                  text NOT NULL CHECK (status IN ('draft', 'published', 'cancelled')),
    title                   text NOT NULL,
    description             text,
    starts_at               timestamptz NOT NULL,
    ends_at                 timestamptz NOT NULL,
    time_zone               text NOT NULL,
    venue                   text,
    online_platform         text,
    registration_opens_at   timestamptz,
    registration_closes_at  timestamptz,
    languages               text[] NOT NULL DEFAULT '{}',
    contact_email           text,
    contact_phone           text,
    sequence                integer NOT NULL DEFAULT 0,
    created_by              text NOT NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    published_at            timestamptz,
    cancelled_at            timestamptz,
    cancel_reason           text,
    CHECK (ends_at > starts_at)
);
CREATE INDEX meetings_organization ON meetings (organization_id, starts_at DESC, id);
CREATE INDEX meetings_published ON meetings (starts_at DESC, id) WHERE published_at IS NOT NULL;
