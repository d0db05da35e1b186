-- Tuning measured with rapport-bench on the 10,000-account workspace.
--
-- 1. Search never asks FTS5 for a one-letter prefix (it would match nearly every row), so
--    the one-letter prefix indexes are dead weight: rebuild the FTS tables with prefix
--    indexes of 2 and 3 characters only.
-- 2. The accounts list sorts by (name_key, id): an index on exactly that lets SQLite read
--    the rows in order instead of sorting ties in a temporary b-tree.

DROP TABLE accounts_fts;
DROP TABLE contacts_fts;
DROP TABLE notes_fts;

CREATE VIRTUAL TABLE accounts_fts USING fts5 (
    name, tags, domains,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);

CREATE VIRTUAL TABLE contacts_fts USING fts5 (
    name, email, role,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);

CREATE VIRTUAL TABLE notes_fts USING fts5 (
    body, content = 'notes', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);

-- The triggers of the first migration name these tables and keep working; refill them.
INSERT INTO accounts_fts (rowid, name, tags, domains)
    SELECT seq, name,
        (SELECT group_concat(value, ' ') FROM json_each(accounts.tags)),
        (SELECT group_concat(value, ' ') FROM json_each(accounts.support_email_domains))
    FROM accounts;

INSERT INTO contacts_fts (rowid, name, email, role)
    SELECT seq, name, email, role FROM contacts WHERE deleted_at IS NULL;

INSERT INTO notes_fts (rowid, body) SELECT seq, body FROM notes WHERE deleted_at IS NULL;

DROP INDEX accounts_name;
CREATE INDEX accounts_name ON accounts (name_key, id);
