-- The size of a record's fields as JSON text, kept by PostgreSQL on every write. A pull cuts
-- its page by bytes (MAX_PULL_PAGE_BYTES); counting with this column spares it turning every
-- row's fields into text once more just to measure them (the profile in docs/BENCHMARKS.md,
-- "Central service: the pull's SQL").
ALTER TABLE records
    ADD COLUMN fields_bytes integer GENERATED ALWAYS AS (octet_length(fields::text)) STORED;
