ALTER TABLE users DROP COLUMN scim_deleted_at;
