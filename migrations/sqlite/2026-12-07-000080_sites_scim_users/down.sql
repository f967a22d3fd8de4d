DROP TRIGGER sites_scim_users_update;
DROP TRIGGER sites_scim_users_delete;
DROP TRIGGER sites_scim_users_insert;
ALTER TABLE sites DROP COLUMN scim_users;
