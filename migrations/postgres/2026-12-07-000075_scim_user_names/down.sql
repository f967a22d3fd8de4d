ALTER TABLE clinics DROP COLUMN external_id;
DROP INDEX users_site_user_name;
ALTER TABLE users DROP COLUMN email_primary;
ALTER TABLE users DROP COLUMN user_name_normalized;
ALTER TABLE users DROP COLUMN user_name;
