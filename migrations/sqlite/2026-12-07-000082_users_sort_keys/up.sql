-- The page keys of a search (`users::list` with `q`): each match of the suffix table is
-- looked up by id for its site and its sort value. This index holds exactly those columns,
-- so the lookup reads a dense index (about 120 bytes a user) that a connection's page cache
-- keeps whole, instead of one page of the `users` table per match.
--
-- Its id is compared with `COLLATE RTRIM` (the search condition, `search::SUFFIX_MATCH_SQLITE`,
-- does the same): without statistics SQLite always prefers the primary key's unique index
-- for `id = ?`, which then reads the table row. Under RTRIM only this index serves the
-- comparison; for ids (UUIDs, never a trailing space) it is the binary comparison.
CREATE INDEX users_sort_keys
    ON users (id COLLATE RTRIM, site_id, sort_last_name, sort_first_name, email_normalized);
