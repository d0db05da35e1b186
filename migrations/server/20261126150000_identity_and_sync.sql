-- Rapport central service: staff identity, teams, sessions, and the synced records.

-- One global sequence of changes. Every transaction that changes synced data takes the next
-- numbers by UPDATE of this single row; the row lock is held until the transaction ends, so
-- sequence numbers become visible in the order they were handed out and a reader can never
-- see number n+1 before n (see crates/server/README.md, "The cursor").
CREATE TABLE sync_clock (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_seq    bigint  NOT NULL DEFAULT 0,
    -- Tombstones and membership removals at or below this number have been purged: a cursor
    -- older than this gets `reset_required`.
    horizon_seq bigint  NOT NULL DEFAULT 0
);
INSERT INTO sync_clock DEFAULT VALUES;

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    email          text NOT NULL,
    name           text NOT NULL,
    role           text NOT NULL CHECK (role IN ('csm', 'account_rep', 'support_lead', 'admin')),
    time_zone      text NOT NULL,
    working_hours  jsonb NOT NULL,
    password_hash  text NOT NULL,
    disabled       boolean NOT NULL DEFAULT false,
    -- Bumped by every change of the profile (what a mutation's `base_version` refers to).
    version        bigint NOT NULL DEFAULT 1,
    -- Sequence number of the profile's last change (team-mates pull it).
    seq            bigint NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE teams (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX teams_name_key ON teams (lower(name));

CREATE TABLE team_members (
    team_id    uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Sequence number of the joining: the team's records reach the user's pull at this position.
    joined_seq bigint NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

-- Removals, so a pull can tell the client to purge a team's data.
CREATE TABLE team_removals (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    team_id uuid NOT NULL,
    seq     bigint NOT NULL,
    PRIMARY KEY (user_id, seq)
);

-- Bearer tokens: only the SHA-256 of the token is stored.
CREATE TABLE auth_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

-- Failed logins per (email, client address), for the login rate limit. Kept in PostgreSQL so
-- every server process counts the same attempts.
CREATE TABLE login_failures (
    id    bigserial PRIMARY KEY,
    email text NOT NULL,
    ip    text NOT NULL,
    at    timestamptz NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (email, ip, at);

-- Every synced record (account, contact, note), one row each, holding its current fields.
CREATE TABLE records (
    entity     text NOT NULL CHECK (entity IN ('account', 'contact', 'note')),
    id         uuid NOT NULL,
    team_id    uuid NOT NULL REFERENCES teams (id),
    -- The account a contact or note hangs off (NULL for an account).
    account_id uuid,
    fields     jsonb NOT NULL,
    deleted    boolean NOT NULL DEFAULT false,
    version    bigint NOT NULL,
    seq        bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by uuid,
    PRIMARY KEY (entity, id)
);
CREATE UNIQUE INDEX records_seq ON records (seq);
CREATE INDEX records_team_seq ON records (team_id, seq);
CREATE INDEX records_account ON records (account_id) WHERE account_id IS NOT NULL;

-- Mutation ids already applied: a retried mutation is answered `applied` and not applied again.
CREATE TABLE applied_mutations (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL,
    entity     text NOT NULL,
    entity_id  uuid NOT NULL,
    applied_at timestamptz NOT NULL
);
