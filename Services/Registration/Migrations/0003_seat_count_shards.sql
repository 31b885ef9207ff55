-- Submissions in a category without any seat limit share the conference's lock (FOR SHARE) and
-- count their seats on one of several rows per category (`shard`), so that they do not wait for
-- each other on one counter row. A category's count is the sum of its rows; a row alone may go
-- below zero (a seat taken on one row and freed on another).
ALTER TABLE seat_counts DROP CONSTRAINT seat_counts_pkey;
ALTER TABLE seat_counts DROP CONSTRAINT seat_counts_held_check;
ALTER TABLE seat_counts ADD COLUMN shard smallint NOT NULL DEFAULT 0 CHECK (shard BETWEEN 0 AND 63);
ALTER TABLE seat_counts ADD PRIMARY KEY (conference_id, category, shard);
