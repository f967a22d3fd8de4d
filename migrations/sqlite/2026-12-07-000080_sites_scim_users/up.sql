-- How many of the site's users SCIM lists show (`scim_deleted_at IS NULL`): the
-- `totalResults` of an unfiltered `GET /scim/v2/Users`, read with the site instead of
-- counted over every user on each page. Triggers keep it in step with `users`, whoever
-- writes the row, in the writer's transaction.
ALTER TABLE sites ADD COLUMN scim_users BIGINT NOT NULL DEFAULT 0;

UPDATE sites SET scim_users = (
    SELECT count(*) FROM users WHERE users.site_id = sites.id AND users.scim_deleted_at IS NULL
);

CREATE TRIGGER sites_scim_users_insert AFTER INSERT ON users
WHEN NEW.scim_deleted_at IS NULL
BEGIN
    UPDATE sites SET scim_users = scim_users + 1 WHERE id = NEW.site_id;
END;

CREATE TRIGGER sites_scim_users_delete AFTER DELETE ON users
WHEN OLD.scim_deleted_at IS NULL
BEGIN
    UPDATE sites SET scim_users = scim_users - 1 WHERE id = OLD.site_id;
END;

CREATE TRIGGER sites_scim_users_update AFTER UPDATE OF scim_deleted_at, site_id ON users
WHEN OLD.site_id <> NEW.site_id
  OR (OLD.scim_deleted_at IS NULL) <> (NEW.scim_deleted_at IS NULL)
BEGIN
    UPDATE sites SET scim_users = scim_users - 1
    WHERE id = OLD.site_id AND OLD.scim_deleted_at IS NULL;
    UPDATE sites SET scim_users = scim_users + 1
    WHERE id = NEW.site_id AND NEW.scim_deleted_at IS NULL;
END;
