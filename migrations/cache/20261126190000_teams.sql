-- The teams of the signed-in user, as the server named them at sign-in (the quarter board
-- filters by team: an account belongs to the team `sync_versions` records for its row).
CREATE TABLE teams (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
) STRICT;
