DROP TRIGGER sites_active_users_update ON users;
DROP TRIGGER sites_active_users_delete ON users;
DROP TRIGGER sites_active_users_insert ON users;
DROP FUNCTION sites_active_users_updated();
DROP FUNCTION sites_active_users_counted();
DROP FUNCTION sites_active_users_add(BIGINT, TEXT, TEXT, BIGINT);
ALTER TABLE sites DROP COLUMN active_non_clinical;
ALTER TABLE sites DROP COLUMN active_clinical;
