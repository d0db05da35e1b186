-- The first sync writes accounts in bulk (crates/client/src/sync/bulk.rs) and fills
-- accounts_fts itself, in one multi-row insert after the run's rows. While a row of
-- `fts_deferred` exists (only ever inside that transaction), the insert trigger stands
-- aside. Measured on the cache schema: 100,000 inserts in one transaction took 6.2 s with
-- the trigger, 1.8 s with the same FTS rows written after the rows (docs/BENCHMARKS.md).
-- Every other write keeps the trigger exactly as before.

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
