-- The site's active users by type, what every licence decision reads (`sites::usage`),
-- kept with the site instead of counted over every user of the site on each create or
-- reactivation. Triggers keep them in step with `users`, whoever writes the row, in the
-- writer's transaction (which holds the site lock).
ALTER TABLE sites ADD COLUMN active_clinical BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN active_non_clinical BIGINT NOT NULL DEFAULT 0;

UPDATE sites SET
    active_clinical = (SELECT count(*) FROM users WHERE users.site_id = sites.id
                       AND users.status = 'active' AND users.user_type = 'clinical'),
    active_non_clinical = (SELECT count(*) FROM users WHERE users.site_id = sites.id
                           AND users.status = 'active' AND users.user_type = 'non_clinical');

CREATE TRIGGER sites_active_users_insert AFTER INSERT ON users
WHEN NEW.status = 'active'
BEGIN
    UPDATE sites SET
        active_clinical = active_clinical + (NEW.user_type = 'clinical'),
        active_non_clinical = active_non_clinical + (NEW.user_type = 'non_clinical')
    WHERE id = NEW.site_id;
END;

CREATE TRIGGER sites_active_users_delete AFTER DELETE ON users
WHEN OLD.status = 'active'
BEGIN
    UPDATE sites SET
        active_clinical = active_clinical - (OLD.user_type = 'clinical'),
        active_non_clinical = active_non_clinical - (OLD.user_type = 'non_clinical')
    WHERE id = OLD.site_id;
END;

CREATE TRIGGER sites_active_users_update AFTER UPDATE OF status, user_type, site_id ON users
WHEN (OLD.status = 'active') <> (NEW.status = 'active')
  OR (NEW.status = 'active' AND (OLD.user_type <> NEW.user_type OR OLD.site_id <> NEW.site_id))
BEGIN
    UPDATE sites SET
        active_clinical = active_clinical - (OLD.user_type = 'clinical'),
        active_non_clinical = active_non_clinical - (OLD.user_type = 'non_clinical')
    WHERE id = OLD.site_id AND OLD.status = 'active';
    UPDATE sites SET
        active_clinical = active_clinical + (NEW.user_type = 'clinical'),
        active_non_clinical = active_non_clinical + (NEW.user_type = 'non_clinical')
    WHERE id = NEW.site_id AND NEW.status = 'active';
END;
