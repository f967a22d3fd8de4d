DROP TRIGGER sites_active_users_update;
DROP TRIGGER sites_active_users_delete;
DROP TRIGGER sites_active_users_insert;
ALTER TABLE sites DROP COLUMN active_non_clinical;
ALTER TABLE sites DROP COLUMN active_clinical;
