-- Where an attendee came from when a sync added them: `dingtalk_department:<id>`. Null for
-- attendees added by hand or by import, which no sync ever removes.
ALTER TABLE meeting_attendees ADD COLUMN sync_source text;
CREATE INDEX meeting_attendees_sync_source ON meeting_attendees (meeting_id, sync_source) WHERE sync_source IS NOT NULL;
