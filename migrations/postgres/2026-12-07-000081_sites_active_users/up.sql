-- The site's active users by type, what every licence decision reads (`sites::usage`),
-- kept with the site instead of counted over every user of the site on each create or
-- reactivation. Triggers keep them in step with `users`, whoever writes the row, in the
-- writer's transaction (which holds the site lock). Inserts and deletes count per
-- statement (transition tables), so a multi-row INSERT updates the site row once.
ALTER TABLE sites ADD COLUMN active_clinical BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN active_non_clinical BIGINT NOT NULL DEFAULT 0;

UPDATE sites SET
    active_clinical = (SELECT count(*) FROM users WHERE users.site_id = sites.id
                       AND users.status = 'active' AND users.user_type = 'clinical'),
    active_non_clinical = (SELECT count(*) FROM users WHERE users.site_id = sites.id
                           AND users.status = 'active' AND users.user_type = 'non_clinical');

CREATE FUNCTION sites_active_users_add(rows_sign BIGINT, changed_site TEXT, changed_type TEXT,
                                       n BIGINT) RETURNS void
LANGUAGE sql AS $$
    UPDATE sites SET
        active_clinical = active_clinical
            + rows_sign * n * (CASE WHEN changed_type = 'clinical' THEN 1 ELSE 0 END),
        active_non_clinical = active_non_clinical
            + rows_sign * n * (CASE WHEN changed_type = 'non_clinical' THEN 1 ELSE 0 END)
    WHERE id = changed_site;
$$;

-- `changed`: the rows a statement inserted (added) or deleted (taken away).
CREATE FUNCTION sites_active_users_counted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sites_active_users_add(CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END,
                                   site_id, user_type, count(*))
    FROM changed WHERE status = 'active' GROUP BY site_id, user_type;
    RETURN NULL;
END
$$;

CREATE FUNCTION sites_active_users_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'active' THEN
        PERFORM sites_active_users_add(-1, OLD.site_id, OLD.user_type, 1);
    END IF;
    IF NEW.status = 'active' THEN
        PERFORM sites_active_users_add(1, NEW.site_id, NEW.user_type, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER sites_active_users_insert AFTER INSERT ON users
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION sites_active_users_counted();

CREATE TRIGGER sites_active_users_delete AFTER DELETE ON users
REFERENCING OLD TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION sites_active_users_counted();

CREATE TRIGGER sites_active_users_update AFTER UPDATE OF status, user_type, site_id ON users
FOR EACH ROW
WHEN ((OLD.status = 'active') IS DISTINCT FROM (NEW.status = 'active')
      OR (NEW.status = 'active' AND (OLD.user_type IS DISTINCT FROM NEW.user_type
                                     OR OLD.site_id IS DISTINCT FROM NEW.site_id)))
EXECUTE FUNCTION sites_active_users_updated();
