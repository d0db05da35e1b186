-- Onboarding sessions (synced like the other account records), the local onboarding
-- settings, and the reminders already shown (so a restart does not show them again).

CREATE TABLE onboarding_sessions (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    facilitator_id TEXT NOT NULL,
    attendee_ids   TEXT NOT NULL, -- JSON array of contact ids
    starts_at      TEXT NOT NULL,
    ends_at        TEXT NOT NULL,
    time_zone      TEXT NOT NULL, -- the customer's IANA zone
    meeting_link   TEXT,
    agenda         TEXT NOT NULL, -- JSON array of AgendaItem
    status         TEXT NOT NULL
        CHECK (status IN ('planned', 'scheduled', 'completed', 'cancelled', 'no_show')),
    outcome        TEXT NOT NULL,
    follow_ups     TEXT NOT NULL, -- JSON array of ActionItem
    sequence       INTEGER NOT NULL CHECK (sequence >= 0),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
) STRICT;

CREATE INDEX onboarding_sessions_account ON onboarding_sessions (account_id, starts_at);
CREATE INDEX onboarding_sessions_facilitator
    ON onboarding_sessions (facilitator_id, starts_at);

-- This desktop's onboarding settings: `agenda_template` (JSON array of strings) and
-- `reminder_minutes` (integer as text). Absent keys mean the defaults.
CREATE TABLE onboarding_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- One row per reminder shown: a session moved to another start gets a new one.
CREATE TABLE onboarding_reminders (
    session_id TEXT NOT NULL,
    starts_at  TEXT NOT NULL,
    shown_at   TEXT NOT NULL,
    PRIMARY KEY (session_id, starts_at)
) STRICT;
