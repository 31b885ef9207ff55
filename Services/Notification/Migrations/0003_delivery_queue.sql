-- The deliveries table is the work queue of the delivery workers: they claim `queued` rows in
-- batches (FOR UPDATE SKIP LOCKED) instead of receiving one broker command per delivery, and
-- are woken by NOTIFY when a row becomes queued (NOTIFY folds repeats within a transaction).
CREATE INDEX deliveries_queued ON deliveries (created_at) WHERE status = 'queued';

CREATE FUNCTION notify_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_deliveries', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER deliveries_queued_notify AFTER INSERT OR UPDATE OF status ON deliveries
    FOR EACH ROW WHEN (NEW.status = 'queued') EXECUTE FUNCTION notify_deliveries();

-- A robot's send is counted from when the provider answered (the claim writes a provisional
-- time), so the rate window errs on the safe side however long the send took.
ALTER TABLE robot_sends ADD COLUMN delivery_id uuid;
