-- The desktop cache: users, the local profile, accounts, contacts, notes, the outbox, and
-- FTS5 indexes kept in step by triggers. Timestamps are fixed-width RFC 3339 UTC text
-- (`2026-11-26T15:00:00.000000Z`) so they sort as text. Ids are UUID text.
-- Every entity table has an INTEGER PRIMARY KEY `seq` so the FTS rowids stay stable
-- across VACUUM; the UUID `id` is the identity the app and the server use.

CREATE TABLE users (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('csm', 'account_rep', 'support_lead', 'admin')),
    time_zone     TEXT NOT NULL,
    working_hours TEXT NOT NULL -- JSON WorkingHours
) STRICT;

-- The signed-in user of this cache (at most one row).
CREATE TABLE profile (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    user_id   TEXT NOT NULL REFERENCES users (id)
) STRICT;

CREATE TABLE accounts (
    seq                     INTEGER PRIMARY KEY,
    id                      TEXT NOT NULL UNIQUE,
    name                    TEXT NOT NULL,
    -- lower-cased name: sort key and substring search
    name_key                TEXT NOT NULL,
    plan                    TEXT NOT NULL CHECK (plan IN ('professional_support', 'standard')),
    time_zone               TEXT NOT NULL,
    fiscal_year_start_month INTEGER NOT NULL CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
    owner_csm_id            TEXT,
    account_rep_id          TEXT,
    slack_channel           TEXT,
    support_email_domains   TEXT NOT NULL, -- JSON array of strings
    stage                   TEXT NOT NULL
        CHECK (stage IN ('onboarding', 'active', 'at_risk', 'churned')),
    tags                    TEXT NOT NULL, -- JSON array of strings
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    -- kept by triggers on contacts and notes (live rows only)
    contact_count           INTEGER NOT NULL DEFAULT 0,
    note_count              INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX accounts_owner ON accounts (owner_csm_id);
CREATE INDEX accounts_rep ON accounts (account_rep_id);
CREATE INDEX accounts_name ON accounts (name_key);

CREATE TABLE contacts (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    role       TEXT NOT NULL,
    time_zone  TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
) STRICT;

CREATE INDEX contacts_account ON contacts (account_id, name) WHERE deleted_at IS NULL;

CREATE TABLE notes (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    author_id  TEXT NOT NULL,
    body       TEXT NOT NULL,
    pinned     INTEGER NOT NULL CHECK (pinned IN (0, 1)),
    link       TEXT, -- JSON NoteLink
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
) STRICT;

CREATE INDEX notes_account ON notes (account_id, pinned DESC, updated_at DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX notes_recent ON notes (updated_at DESC) WHERE deleted_at IS NULL;

-- Local writes waiting to be pushed, in the order they were made.
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    entity       TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    op           TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    fields       TEXT NOT NULL, -- JSON object
    base_version INTEGER,
    client_time  TEXT NOT NULL
) STRICT;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Full-text search. Accounts and contacts are small: their FTS tables hold their own text.
-- Notes are large: the FTS table reads its text from `notes` (external content).
-- Soft-deleted rows are taken out of the indexes.
CREATE VIRTUAL TABLE accounts_fts USING fts5 (
    name, tags, domains,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
);

CREATE VIRTUAL TABLE contacts_fts USING fts5 (
    name, email, role,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
);

CREATE VIRTUAL TABLE notes_fts USING fts5 (
    body, content = 'notes', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
);

CREATE TRIGGER accounts_ai AFTER INSERT ON accounts BEGIN
    INSERT INTO accounts_fts (rowid, name, tags, domains) VALUES (
        new.seq, new.name,
        (SELECT group_concat(value, ' ') FROM json_each(new.tags)),
        (SELECT group_concat(value, ' ') FROM json_each(new.support_email_domains)));
END;

CREATE TRIGGER accounts_au AFTER UPDATE OF name, tags, support_email_domains ON accounts BEGIN
    DELETE FROM accounts_fts WHERE rowid = old.seq;
    INSERT INTO accounts_fts (rowid, name, tags, domains) VALUES (
        new.seq, new.name,
        (SELECT group_concat(value, ' ') FROM json_each(new.tags)),
        (SELECT group_concat(value, ' ') FROM json_each(new.support_email_domains)));
END;

CREATE TRIGGER accounts_ad AFTER DELETE ON accounts BEGIN
    DELETE FROM accounts_fts WHERE rowid = old.seq;
END;

CREATE TRIGGER contacts_ai AFTER INSERT ON contacts WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO contacts_fts (rowid, name, email, role)
        VALUES (new.seq, new.name, new.email, new.role);
    UPDATE accounts SET contact_count = contact_count + 1 WHERE id = new.account_id;
END;

CREATE TRIGGER contacts_au AFTER UPDATE OF name, email, role, deleted_at, account_id ON contacts
BEGIN
    DELETE FROM contacts_fts WHERE rowid = old.seq;
    INSERT INTO contacts_fts (rowid, name, email, role)
        SELECT new.seq, new.name, new.email, new.role WHERE new.deleted_at IS NULL;
    UPDATE accounts SET contact_count = contact_count - 1
        WHERE id = old.account_id AND old.deleted_at IS NULL;
    UPDATE accounts SET contact_count = contact_count + 1
        WHERE id = new.account_id AND new.deleted_at IS NULL;
END;

CREATE TRIGGER contacts_ad AFTER DELETE ON contacts WHEN old.deleted_at IS NULL BEGIN
    DELETE FROM contacts_fts WHERE rowid = old.seq;
    UPDATE accounts SET contact_count = contact_count - 1 WHERE id = old.account_id;
END;

CREATE TRIGGER notes_ai AFTER INSERT ON notes WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO notes_fts (rowid, body) VALUES (new.seq, new.body);
    UPDATE accounts SET note_count = note_count + 1 WHERE id = new.account_id;
END;

CREATE TRIGGER notes_au AFTER UPDATE OF body, deleted_at, account_id ON notes BEGIN
    INSERT INTO notes_fts (notes_fts, rowid, body)
        SELECT 'delete', old.seq, old.body WHERE old.deleted_at IS NULL;
    INSERT INTO notes_fts (rowid, body)
        SELECT new.seq, new.body WHERE new.deleted_at IS NULL;
    UPDATE accounts SET note_count = note_count - 1
        WHERE id = old.account_id AND old.deleted_at IS NULL;
    UPDATE accounts SET note_count = note_count + 1
        WHERE id = new.account_id AND new.deleted_at IS NULL;
END;

CREATE TRIGGER notes_ad AFTER DELETE ON notes WHEN old.deleted_at IS NULL BEGIN
    INSERT INTO notes_fts (notes_fts, rowid, body) VALUES ('delete', old.seq, old.body);
    UPDATE accounts SET note_count = note_count - 1 WHERE id = old.account_id;
END;
