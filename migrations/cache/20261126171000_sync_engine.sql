-- The sync engine's state (see crates/client/src/sync/).
--
-- `sync_state`: the connection (server URL, the signed-in server user, their default team),
-- the pull cursor, and the first-sync progress. The access token is NOT here: it lives in the
-- OS keyring only.
CREATE TABLE sync_state (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    server_url      TEXT,
    user_id         TEXT,
    email           TEXT,
    default_team_id TEXT,
    -- the last cursor whose page was applied, stored in the same transaction as the page
    cursor          TEXT NOT NULL DEFAULT '',
    last_synced_at  TEXT,
    -- first sync (or a reset): records received so far, of `total` (null when unknown)
    received        INTEGER NOT NULL DEFAULT 0,
    total           INTEGER
) STRICT;

INSERT INTO sync_state (singleton) VALUES (1);

-- What the server last said of every record this cache holds: the owning team (for team
-- purges and for naming an account's team on push) and the version.
CREATE TABLE sync_versions (
    entity  TEXT NOT NULL,
    id      TEXT NOT NULL,
    team_id TEXT,
    version INTEGER NOT NULL,
    deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    PRIMARY KEY (entity, id)
) STRICT;

CREATE INDEX sync_versions_team ON sync_versions (team_id);

-- The store for pulled records of kinds this build does not keep in their own tables
-- (onboarding_session, review, request, request_event, rca until their modules land), and
-- for contacts and notes whose account has not arrived yet (`parked`): nothing pulled is
-- lost, and a parked record is written to its table as soon as its account is there.
CREATE TABLE sync_records (
    entity  TEXT NOT NULL,
    id      TEXT NOT NULL,
    team_id TEXT,
    fields  TEXT NOT NULL, -- JSON object, wire names (with created_at/updated_at)
    deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    parked  INTEGER NOT NULL DEFAULT 0 CHECK (parked IN (0, 1)),
    PRIMARY KEY (entity, id)
) STRICT;

CREATE INDEX sync_records_parked ON sync_records (parked) WHERE parked = 1;

-- Local writes the server refused for good: the user's content is kept here, with the
-- reason, until they edit and resend it or discard it.
CREATE TABLE sync_attention (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE, -- the mutation id
    entity       TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    op           TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    fields       TEXT NOT NULL, -- JSON object: the user's content
    base_version INTEGER,
    client_time  TEXT NOT NULL,
    code         TEXT NOT NULL,
    message      TEXT NOT NULL,
    field        TEXT,
    rejected_at  TEXT NOT NULL,
    -- 0 until the record was reloaded from the server (so the cache shows the server's
    -- state again); a reload cut off by the network is retried at the next sync
    reloaded     INTEGER NOT NULL DEFAULT 0 CHECK (reloaded IN (0, 1))
) STRICT;
