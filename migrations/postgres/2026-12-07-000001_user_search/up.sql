-- The user list's `q` (`search_text LIKE '%…%'`) served by a trigram index (pg_trgm is a
-- trusted extension: the database owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_search_trgm ON users USING gin (search_text gin_trgm_ops);
