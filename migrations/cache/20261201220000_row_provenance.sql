-- Where each local row came from, so that a team purge, a reset, a sign-out and a change of
-- user act on every row of a team or a profile, not only on the ones a pull recorded.
--
-- `sync_versions` now also holds the records this desktop PUSHED and the server applied
-- but whose echo has not been pulled yet: `version = 0` means "pushed, awaiting its echo"
-- (server versions start at 1), with the team the record belongs to. A record with pending
-- writes is in the outbox; a row with neither is on no server's list and a reconcile drops it.
--
-- `stale`: set on every row when a pull from the start begins; each record the pull brings
-- clears it. When the last page of that pull is applied, every record still stale (or with
-- no `sync_versions` row at all) that no pending write needs is dropped: the server no
-- longer has it for this user (see docs/ARCHITECTURE.md, "The cache invariant").
ALTER TABLE sync_versions ADD COLUMN stale INTEGER NOT NULL DEFAULT 0 CHECK (stale IN (0, 1));

-- 1 between the first and the last page of a pull from the start (a reconcile is running).
ALTER TABLE sync_state ADD COLUMN reconciling INTEGER NOT NULL DEFAULT 0
    CHECK (reconciling IN (0, 1));

-- When another user signs in on this desktop, the previous user's unsynced writes and
-- refused writes are put aside here under their server user id (never shown to anyone
-- else), and come back into the outbox when that user signs in again.
CREATE TABLE parked_outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      TEXT NOT NULL,
    id           TEXT NOT NULL UNIQUE,
    entity       TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    op           TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    fields       TEXT NOT NULL,
    base_version INTEGER,
    client_time  TEXT NOT NULL
) STRICT;

CREATE TABLE parked_attention (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      TEXT NOT NULL,
    id           TEXT NOT NULL UNIQUE,
    entity       TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    op           TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    fields       TEXT NOT NULL,
    base_version INTEGER,
    client_time  TEXT NOT NULL,
    code         TEXT NOT NULL,
    message      TEXT NOT NULL,
    field        TEXT,
    rejected_at  TEXT NOT NULL
) STRICT;

CREATE INDEX parked_outbox_user ON parked_outbox (user_id);
CREATE INDEX parked_attention_user ON parked_attention (user_id);
