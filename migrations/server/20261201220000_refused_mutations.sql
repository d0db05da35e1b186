-- The outcome of a mutation is final: a refused mutation id is remembered with its reason,
-- so a late copy of the same push (a retry, a duplicate in flight) is refused the same way
-- and can never apply after the client moved the write to "needs attention".
CREATE TABLE refused_mutations (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL,
    entity     text NOT NULL,
    entity_id  uuid NOT NULL,
    code       text NOT NULL,
    field      text,
    message    text NOT NULL,
    refused_at timestamptz NOT NULL
);
