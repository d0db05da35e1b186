-- Urgent requests and incidents: the requests, their timelines (event history), the
-- root-cause analyses, the desktop alerts already shown, and the call settings.
-- A request's clock is computed from its events (rapport-domain), never stored.

CREATE TABLE requests (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    contact_id   TEXT,
    title        TEXT NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('chat', 'email')),
    opened_at    TEXT NOT NULL,
    opened_by    TEXT, -- the staff member who took it in (chat) or null (email import)
    severity     TEXT NOT NULL CHECK (severity IN ('p1', 'p2', 'p3', 'p4')),
    needs_triage INTEGER NOT NULL CHECK (needs_triage IN (0, 1)),
    status       TEXT NOT NULL
        CHECK (status IN ('open', 'acknowledged', 'mitigated', 'resolved', 'closed')),
    thread_keys  TEXT NOT NULL, -- JSON array: Message-IDs of the emails on the request
    meeting_link TEXT,          -- the incident's one call link, once launched
    deleted_at   TEXT
) STRICT;

CREATE INDEX requests_active ON requests (status, opened_at) WHERE deleted_at IS NULL;
CREATE INDEX requests_account ON requests (account_id, opened_at DESC) WHERE deleted_at IS NULL;

CREATE TABLE request_events (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    at         TEXT NOT NULL,
    by         TEXT NOT NULL, -- JSON Actor
    kind       TEXT NOT NULL  -- JSON RequestEventKind
) STRICT;

CREATE INDEX request_events_request ON request_events (request_id, at);

CREATE TABLE rcas (
    seq                  INTEGER PRIMARY KEY,
    id                   TEXT NOT NULL UNIQUE,
    account_id           TEXT NOT NULL,
    request_id           TEXT NOT NULL,
    state                TEXT NOT NULL CHECK (state IN ('draft', 'in_review', 'published')),
    summary              TEXT NOT NULL,
    impact               TEXT NOT NULL, -- JSON Impact
    sla_result           TEXT,          -- JSON SlaState or null
    timeline             TEXT NOT NULL, -- JSON TimelineEntry[]
    root_cause           TEXT NOT NULL,
    contributing_factors TEXT NOT NULL,
    resolution           TEXT NOT NULL,
    action_items         TEXT NOT NULL, -- JSON ActionItem[]
    updated_at           TEXT NOT NULL,
    deleted_at           TEXT
) STRICT;

CREATE UNIQUE INDEX rcas_request ON rcas (request_id) WHERE deleted_at IS NULL;

-- Desktop notifications already shown: once per request and kind, across restarts.
-- Local to this machine (never synced).
CREATE TABLE request_alerts (
    request_id TEXT NOT NULL,
    alert      TEXT NOT NULL CHECK (alert IN ('urgent', 'at_risk', 'breached')),
    sent_at    TEXT NOT NULL,
    PRIMARY KEY (request_id, alert)
) STRICT;

-- This machine's call settings: `meeting_link` (my personal meeting link) and
-- `allowed_hosts` (JSON array, the meeting-link allow-list). Local, never synced.
CREATE TABLE call_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
