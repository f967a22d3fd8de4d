-- The page keys of a search (`users::list` with `q`): each match of the suffix table is
-- looked up by id for its site and its sort value. This index holds exactly those columns,
-- so the lookup can be an index-only scan of a dense index instead of a read of the
-- `users` row per match. (SQLite's index compares the id under `COLLATE RTRIM`, so that its
-- planner picks it over the primary key; PostgreSQL picks by cost and needs no such hint.)
CREATE INDEX users_sort_keys
    ON users (id, site_id, sort_last_name, sort_first_name, email_normalized);
