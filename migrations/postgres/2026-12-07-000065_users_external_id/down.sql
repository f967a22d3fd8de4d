DROP INDEX users_site_external_id;
ALTER TABLE users DROP COLUMN external_id;
