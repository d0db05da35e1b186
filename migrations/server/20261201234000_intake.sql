-- Intake: requests that arrive by themselves, by chat (a signed API). What they open are ordinary `records` (request, request_event); these
-- tables hold what intake needs beside them.

-- Keys of the chat backends. The secret is shown once; only its SHA-256 is kept, and that
-- digest is the HMAC key the calls are signed with.
CREATE TABLE intake_keys (
    id           uuid PRIMARY KEY,
    name         text NOT NULL,
    secret_hash  bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    created_by   uuid,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE UNIQUE INDEX intake_keys_live_name ON intake_keys (lower(name)) WHERE revoked_at IS NULL;

-- Requests waiting for an account: the customer was not recognised. `id` becomes the
-- request's id when a support lead assigns it; `events` are its timeline until then
-- (RequestEvent JSON, as the records will hold them).
CREATE TABLE intake_unmatched (
    id               uuid PRIMARY KEY,
    channel          text NOT NULL CHECK (channel IN ('chat', 'email')),
    customer_email   text NOT NULL,
    customer_name    text,
    account_hint     text,
    title            text NOT NULL,
    severity         text NOT NULL,
    needs_triage     boolean NOT NULL,
    opened_at        timestamptz NOT NULL,
    thread_keys      jsonb NOT NULL DEFAULT '[]',
    events           jsonb NOT NULL,
    received_at      timestamptz NOT NULL,
    assigned_at      timestamptz,
    assigned_by      uuid,
    assigned_account uuid
);
CREATE INDEX intake_unmatched_waiting ON intake_unmatched (received_at) WHERE assigned_at IS NULL;

-- Chat conversations taken in: the same conversation id answers the same request.
CREATE TABLE intake_chats (
    conversation_id text PRIMARY KEY,
    request_id      uuid NOT NULL,
    key_id          uuid NOT NULL REFERENCES intake_keys (id),
    created_at      timestamptz NOT NULL
);

-- Chat messages appended: a retried message id appends nothing.
CREATE TABLE intake_chat_messages (
    conversation_id text NOT NULL REFERENCES intake_chats (conversation_id),
    message_id      text NOT NULL,
    event_id        uuid NOT NULL,
    PRIMARY KEY (conversation_id, message_id)
);

-- Message-IDs of the emails on Unmatched requests, so a reply threads onto them too.
-- (Requests of an account keep theirs in the record's `thread_keys`.)
CREATE TABLE intake_unmatched_threads (
    message_id   text PRIMARY KEY,
    unmatched_id uuid NOT NULL REFERENCES intake_unmatched (id)
);

-- Each mailbox's place: UIDVALIDITY and the last UID imported, moved in the same
-- transaction as what the message opened, under this row's lock (so two server processes
-- on one database import each message once). The rest is its state for admins.
CREATE TABLE intake_mailboxes (
    name           text PRIMARY KEY,
    uid_validity   bigint,
    last_uid       bigint NOT NULL DEFAULT 0,
    imported       bigint NOT NULL DEFAULT 0,
    state          text NOT NULL DEFAULT 'starting',
    last_error     text,
    last_error_at  timestamptz,
    updated_at     timestamptz NOT NULL
);

-- Messages intake could not take in: what was wrong, which message, when. The raw message
-- is kept so nothing is lost.
CREATE TABLE intake_errors (
    id          uuid PRIMARY KEY,
    source      text NOT NULL,
    uid         bigint,
    message_id  text,
    reason      text NOT NULL,
    raw         bytea,
    at          timestamptz NOT NULL
);
CREATE INDEX intake_errors_at ON intake_errors (at);
