-- The sign-in rate limit: one row per (email, client address) holding the times of its
-- attempts inside the window. An attempt is counted and the limit enforced by a single
-- INSERT ... ON CONFLICT DO UPDATE: the row lock it takes makes parallel attempts, from any
-- server process, queue on the row, so no more than the limit ever get to check a password.
-- It replaces login_failures, whose count, check and insert were three separate steps.
CREATE TABLE login_attempts (
    email    text NOT NULL,
    ip       text NOT NULL,
    attempts timestamptz[] NOT NULL,
    last_at  timestamptz NOT NULL,
    PRIMARY KEY (email, ip)
);
CREATE INDEX login_attempts_last_at ON login_attempts (last_at);

DROP TABLE login_failures;
