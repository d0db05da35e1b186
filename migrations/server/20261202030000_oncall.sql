-- On call: who is paged, by which policy, through which channels, and every page sent.
-- The rules are rapport_domain::oncall; these tables hold their inputs and what the watcher
-- (crates/server/src/oncall/watcher.rs) did.

-- The watcher reads each open request's timeline every tick: events by their request.
CREATE INDEX records_request_events ON records ((fields->>'request_id'))
    WHERE entity = 'request_event';

-- The escalation policy and the rotation: one row. NULL policy: the default of the domain.
CREATE TABLE oncall_config (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    policy     jsonb,
    rotation   jsonb,
    updated_at timestamptz NOT NULL,
    updated_by uuid
);

-- Members who take part in follow the sun without being support leads.
CREATE TABLE oncall_opt_ins (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL
);

-- One person covers a window for another; the latest created wins where they overlap.
CREATE TABLE oncall_overrides (
    id         uuid PRIMARY KEY,
    covering   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    covered    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at),
    created_at timestamptz NOT NULL,
    created_by uuid NOT NULL
);
CREATE INDEX oncall_overrides_ends ON oncall_overrides (ends_at);

-- A team's webhook: Slack-compatible JSON, or generic JSON signed with HMAC-SHA256.
CREATE TABLE oncall_webhooks (
    team_id    uuid PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    url        text NOT NULL,
    format     text NOT NULL CHECK (format IN ('slack', 'signed_json')),
    secret     text,
    updated_at timestamptz NOT NULL,
    updated_by uuid NOT NULL
);

-- Every page, claimed before it is sent. The primary key is the dedupe key: the request and
-- the domain's PageKey (`escalation:p1:0:2`), so no two watchers ever claim the same page.
-- A claim holds a lease; a claim whose lease ran out unsent is taken again (a process
-- killed between claim and send), so a page is sent at least once.
CREATE TABLE oncall_pages (
    request_id  uuid NOT NULL,
    dedupe_key  text NOT NULL,
    key         jsonb NOT NULL,
    team_id     uuid NOT NULL,
    severity    text NOT NULL,
    targets     jsonb NOT NULL,
    due_at      timestamptz NOT NULL,
    claimed_at  timestamptz NOT NULL,
    claimed_by  text NOT NULL,
    lease_until timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 1,
    sent_at     timestamptz,
    -- What happened: 'sent', 'skipped' (acknowledged or closed before it went), 'failed'.
    outcome     text,
    recipients  jsonb,
    last_error  text,
    PRIMARY KEY (request_id, dedupe_key)
);
CREATE INDEX oncall_pages_unsent ON oncall_pages (lease_until) WHERE sent_at IS NULL;

-- Each message of a page: one per recipient by email, one per team webhook.
CREATE TABLE oncall_deliveries (
    id          bigserial PRIMARY KEY,
    request_id  uuid NOT NULL,
    dedupe_key  text NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient   text NOT NULL,
    ok          boolean NOT NULL,
    error       text,
    at          timestamptz NOT NULL,
    FOREIGN KEY (request_id, dedupe_key) REFERENCES oncall_pages (request_id, dedupe_key)
);
CREATE INDEX oncall_deliveries_page ON oncall_deliveries (request_id, dedupe_key);

-- Acknowledgements: each stops the request's escalation from then on.
CREATE TABLE oncall_acks (
    id         uuid PRIMARY KEY,
    request_id uuid NOT NULL,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    via        text NOT NULL CHECK (via IN ('email', 'app'))
);
CREATE INDEX oncall_acks_request ON oncall_acks (request_id);

-- Acknowledge links used: a link's nonce goes in once, so each link works once.
CREATE TABLE oncall_used_links (
    nonce   bytea PRIMARY KEY,
    used_at timestamptz NOT NULL
);
