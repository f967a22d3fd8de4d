DROP TRIGGER sites_scim_users_update ON users;
DROP TRIGGER sites_scim_users_delete ON users;
DROP TRIGGER sites_scim_users_insert ON users;
DROP FUNCTION sites_scim_users_updated();
DROP FUNCTION sites_scim_users_counted();
ALTER TABLE sites DROP COLUMN scim_users;
