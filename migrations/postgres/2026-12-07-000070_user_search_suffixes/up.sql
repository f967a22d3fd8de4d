-- The user list's `q` served in O(log N + matches): every suffix of `users.search_text` that
-- starts with no space and has three characters or more, cut to its first 16 characters,
-- one row per (site, suffix, user). A search for `q` is a B-tree range scan of the suffixes
-- starting with `q` (its first 16 characters; a longer `q` is rechecked against the text).
-- A trigram index answers the same question with posting lists that grow with the site.
-- `COLLATE "C"` orders by code point, as the range's bounds are computed. A trigger keeps
-- the table in step with `users`, whoever writes the row.
CREATE TABLE user_search_suffixes (
    site_id TEXT NOT NULL,
    suffix TEXT COLLATE "C" NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (site_id, suffix, user_id)
);

CREATE FUNCTION user_search_suffixes_of(search_text TEXT) RETURNS SETOF TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT DISTINCT substr(search_text, i, 16) COLLATE "C"
    FROM generate_series(1, length(search_text) - 2) AS i
    WHERE substr(search_text, i, 1) <> ' '
$$;

INSERT INTO user_search_suffixes (site_id, suffix, user_id)
SELECT users.site_id, s, users.id
FROM users, user_search_suffixes_of(users.search_text) AS s;

CREATE FUNCTION user_search_suffixes_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM user_search_suffixes
        WHERE site_id = OLD.site_id
          AND user_id = OLD.id
          AND suffix IN (SELECT user_search_suffixes_of(OLD.search_text));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO user_search_suffixes (site_id, suffix, user_id)
        SELECT NEW.site_id, s, NEW.id FROM user_search_suffixes_of(NEW.search_text) AS s;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER user_search_suffixes_insert_delete AFTER INSERT OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION user_search_suffixes_sync();

CREATE TRIGGER user_search_suffixes_update AFTER UPDATE OF search_text ON users
FOR EACH ROW WHEN (NEW.search_text IS DISTINCT FROM OLD.search_text)
EXECUTE FUNCTION user_search_suffixes_sync();
