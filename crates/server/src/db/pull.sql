-- One page of a pull (crates/server/src/db/sync.rs, `pull`), as ONE statement: one snapshot,
-- one round trip. $1 user id, $2 cursor position, $3 cursor seq, $4 page size + 1,
-- $5 MAX_PULL_PAGE_BYTES, $6 whether the cursor is the start (count the total).
-- The pull bench (`make bench-server`) runs this very file under pgbench, with the
-- placeholders turned into pgbench variables.
WITH clock AS MATERIALIZED (SELECT last_seq, horizon_seq FROM sync_clock),
page AS MATERIALIZED (
  SELECT p.*, row_number() OVER w AS n, sum(p.bytes) OVER w - p.bytes AS bytes_before
  FROM (
    (SELECT r.entity, r.id, r.team_id, r.deleted, r.version, r.fields, r.created_at,
            r.updated_at, r.seq, r.seq AS pos,
            CASE WHEN r.deleted THEN 0 ELSE r.fields_bytes END AS bytes
     FROM team_members m
     CROSS JOIN LATERAL (
       SELECT * FROM records r
       WHERE r.team_id = m.team_id AND r.seq > $2 AND r.seq > m.joined_seq
         AND NOT (r.deleted AND $2 = 0)
       ORDER BY r.seq LIMIT $4) r
     WHERE m.user_id = $1
     ORDER BY r.seq LIMIT $4)
    UNION ALL
    (SELECT r.entity, r.id, r.team_id, r.deleted, r.version, r.fields, r.created_at,
            r.updated_at, r.seq, m.joined_seq AS pos, r.fields_bytes AS bytes
     FROM team_members m
     CROSS JOIN LATERAL (
       SELECT * FROM records r
       WHERE r.team_id = m.team_id AND r.seq < m.joined_seq AND NOT r.deleted
         AND (m.joined_seq > $2 OR r.seq > $3)
       ORDER BY r.seq LIMIT $4) r
     WHERE m.user_id = $1 AND m.joined_seq >= $2
     ORDER BY m.joined_seq, r.seq LIMIT $4)
    ORDER BY pos, seq LIMIT $4
  ) p
  WINDOW w AS (ORDER BY p.pos, p.seq ROWS UNBOUNDED PRECEDING)
)
SELECT c.last_seq AS "last_seq!", c.horizon_seq AS "horizon_seq!",
  CASE WHEN coalesce(g.n, 1) = 1 THEN ARRAY(
    SELECT DISTINCT team_id FROM team_removals WHERE user_id = $1 AND seq > $2 ORDER BY team_id
  ) END AS "purge?: Vec<Uuid>",
  CASE WHEN coalesce(g.n, 1) = 1 THEN (
    SELECT coalesce(json_agg(json_build_object(
             'id', u.id, 'email', u.email, 'name', u.name, 'role', u.role,
             'time_zone', u.time_zone, 'working_hours', u.working_hours,
             'version', u.version, 'created_at', u.created_at, 'updated_at', u.updated_at)
           ORDER BY u.id), '[]'::json)
    FROM users u
    WHERE (u.id = $1 AND u.seq > $2)
       OR EXISTS (SELECT 1 FROM team_members mine JOIN team_members theirs ON theirs.team_id = mine.team_id
                  WHERE mine.user_id = $1 AND theirs.user_id = u.id
                    AND (u.seq > $2 OR mine.joined_seq > $2 OR theirs.joined_seq > $2))
  ) END AS "users?: sqlx::types::Json<Vec<ProfileRow>>",
  CASE WHEN $6 AND coalesce(g.n, 1) = 1 THEN (
    SELECT count(*) FROM team_members m JOIN records r ON r.team_id = m.team_id
    WHERE m.user_id = $1 AND NOT r.deleted
  ) END AS "total?",
  g.entity AS "entity?", g.id AS "id?", g.team_id AS "team_id?", g.deleted AS "deleted?",
  g.version AS "version?", g.created_at AS "created_at?", g.updated_at AS "updated_at?",
  g.seq AS "seq?", g.pos AS "pos?", g.bytes_before < $5 AS "in_page?",
  CASE WHEN g.bytes_before < $5 AND NOT g.deleted THEN g.fields END
    AS "fields?: sqlx::types::Json<Fields>"
FROM clock c LEFT JOIN page g ON true
ORDER BY g.n
