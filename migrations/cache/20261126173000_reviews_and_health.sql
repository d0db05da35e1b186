-- Quarterly use-case reviews & health checks, and the account health score's history.
-- Times are fixed-width RFC 3339 UTC text, ids UUID text (as in the first migration).

-- One row per account and quarter (the id is a UUID v5 of the account and the quarter, so
-- two clients that create the same quarter's review offline make the same record).
-- `reminded_at` is local: when this desktop showed the reminder (never synced).
CREATE TABLE reviews (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    fiscal_year    INTEGER NOT NULL,
    quarter        INTEGER NOT NULL CHECK (quarter BETWEEN 1 AND 4),
    fy_start_month INTEGER NOT NULL CHECK (fy_start_month BETWEEN 1 AND 12),
    state          TEXT NOT NULL CHECK (state IN
        ('not_requested', 'requested', 'scheduled', 'completed', 'declined', 'no_show')),
    rep_id         TEXT,
    starts_at      TEXT,
    ends_at        TEXT,
    time_zone      TEXT NOT NULL,
    meeting_link   TEXT,
    checklist      TEXT NOT NULL, -- JSON [ChecklistEntry]
    findings       TEXT NOT NULL,
    action_items   TEXT NOT NULL, -- JSON [ActionItem]
    sentiment      INTEGER CHECK (sentiment BETWEEN 1 AND 5),
    sequence       INTEGER NOT NULL,
    completed_at   TEXT,
    reminded_at    TEXT,
    updated_at     TEXT NOT NULL,
    deleted_at     TEXT
) STRICT;

CREATE INDEX reviews_account ON reviews (account_id, fiscal_year, quarter)
    WHERE deleted_at IS NULL;
CREATE INDEX reviews_rep_start ON reviews (rep_id, starts_at) WHERE deleted_at IS NULL;

-- The health score's trend, per account; local to this desktop (computed, not synced).
CREATE TABLE health_snapshots (
    seq        INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    taken_at   TEXT NOT NULL,
    score      INTEGER CHECK (score BETWEEN 0 AND 100),
    band       TEXT,
    parts      TEXT NOT NULL, -- JSON [PartScore]
    driver     TEXT
) STRICT;

CREATE INDEX health_snapshots_account ON health_snapshots (account_id, taken_at);

-- Local settings of reviews and health (the score's weights, the reminder lead time).
CREATE TABLE review_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Each account's latest score and its change over 30 days, kept with every snapshot, so the
-- accounts list sorts by them with one primary-key lookup per row.
CREATE TABLE health_latest (
    account_id     TEXT PRIMARY KEY REFERENCES accounts (id),
    score          INTEGER,
    change_30_days INTEGER
) STRICT;
