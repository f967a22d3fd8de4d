-- PostgreSQL only (users fillfactor); SQLite has no such setting. Kept so both backends
-- have the same migration versions.
SELECT 1;
