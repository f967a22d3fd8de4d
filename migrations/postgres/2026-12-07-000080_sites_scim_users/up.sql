-- How many of the site's users SCIM lists show (`scim_deleted_at IS NULL`): the
-- `totalResults` of an unfiltered `GET /scim/v2/Users`, read with the site instead of
-- counted over every user on each page. Triggers keep it in step with `users`, whoever
-- writes the row, in the writer's transaction. Inserts and deletes count per statement
-- (transition tables): one multi-row INSERT updates the site row once, not once per row,
-- which on PostgreSQL would lengthen the row's version chain with every update.
ALTER TABLE sites ADD COLUMN scim_users BIGINT NOT NULL DEFAULT 0;

UPDATE sites SET scim_users = (
    SELECT count(*) FROM users WHERE users.site_id = sites.id AND users.scim_deleted_at IS NULL
);

-- `changed`: the rows a statement inserted (added) or deleted (taken away).
CREATE FUNCTION sites_scim_users_counted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sites
    SET scim_users = scim_users + counted.n * (CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END)
    FROM (SELECT site_id, count(*) AS n FROM changed
          WHERE scim_deleted_at IS NULL GROUP BY site_id) AS counted
    WHERE sites.id = counted.site_id;
    RETURN NULL;
END
$$;

CREATE FUNCTION sites_scim_users_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.scim_deleted_at IS NULL THEN
        UPDATE sites SET scim_users = scim_users - 1 WHERE id = OLD.site_id;
    END IF;
    IF NEW.scim_deleted_at IS NULL THEN
        UPDATE sites SET scim_users = scim_users + 1 WHERE id = NEW.site_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER sites_scim_users_insert AFTER INSERT ON users
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION sites_scim_users_counted();

CREATE TRIGGER sites_scim_users_delete AFTER DELETE ON users
REFERENCING OLD TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION sites_scim_users_counted();

CREATE TRIGGER sites_scim_users_update AFTER UPDATE OF scim_deleted_at, site_id ON users
FOR EACH ROW
WHEN (OLD.site_id IS DISTINCT FROM NEW.site_id
      OR (OLD.scim_deleted_at IS NULL) IS DISTINCT FROM (NEW.scim_deleted_at IS NULL))
EXECUTE FUNCTION sites_scim_users_updated();
