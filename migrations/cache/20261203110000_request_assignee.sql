-- Who works a request (issue 17, point 4): a synced field of the request record, null when
-- nobody has taken it. The Requests board filters on it ("Mine", "Unassigned").
ALTER TABLE requests ADD COLUMN assignee_id TEXT;

CREATE INDEX requests_assignee ON requests (assignee_id) WHERE deleted_at IS NULL;
