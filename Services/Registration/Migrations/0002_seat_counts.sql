-- Seats held per conference and category, kept by the transitions that take and free them (under
-- the conference's lock), so a seat decision reads one row per category instead of counting
-- every registration.

CREATE TABLE seat_counts (
    conference_id   uuid NOT NULL REFERENCES conferences (id),
    category        text NOT NULL,
    held            integer NOT NULL CHECK (held >= 0),
    PRIMARY KEY (conference_id, category)
);

INSERT INTO seat_counts (conference_id, category, held)
SELECT conference_id, category, count(*) FROM registrations
WHERE status IN ('awaiting_payment', 'confirmed', 'offered')
GROUP BY conference_id, category;
