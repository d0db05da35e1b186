-- The first sync writes accounts in bulk (crates/client/src/sync/bulk.rs) and fills
-- accounts_fts itself, one prepared insert per account after the page's rows. While a row
-- of `fts_deferred` exists (only ever inside that transaction), the insert trigger stands
-- aside: an FTS5 write from a trigger makes every following statement of the transaction
-- flush FTS5's pending terms to a new segment, which made the search index 5x the cost of
-- the rows themselves. Every other write keeps the trigger exactly as before.

CREATE TABLE fts_deferred (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1)
) STRICT;

DROP TRIGGER accounts_ai;

CREATE TRIGGER accounts_ai AFTER INSERT ON accounts
WHEN NOT EXISTS (SELECT 1 FROM fts_deferred) BEGIN
    INSERT INTO accounts_fts (rowid, name, tags, domains) VALUES (
        new.seq, new.name,
        (SELECT group_concat(value, ' ') FROM json_each(new.tags)),
        (SELECT group_concat(value, ' ') FROM json_each(new.support_email_domains)));
END;
