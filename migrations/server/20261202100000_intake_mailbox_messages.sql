-- The messages each mailbox has taken in, by a key that survives a change of UIDVALIDITY (the
-- folder deleted and created again, or restored from a backup): the Message-ID, or a SHA-256
-- of the message when it has none. Written in the transaction that takes the message in, so a
-- re-scan of a recreated folder skips what was imported before it.
CREATE TABLE intake_mailbox_messages (
    mailbox      text NOT NULL,
    dedupe_key   text NOT NULL,
    uid_validity bigint NOT NULL,
    uid          bigint NOT NULL,
    taken_at     timestamptz NOT NULL,
    PRIMARY KEY (mailbox, dedupe_key)
);
