-- The user list's `q` served in O(log N + matches): every suffix of `users.search_text` that
-- starts with no space and has three characters or more, cut to its first 16 characters,
-- one row per (site, suffix, user). A search for `q` is a B-tree range scan of the suffixes
-- starting with `q` (its first 16 characters; a longer `q` is rechecked against the text).
-- A trigram index answers the same question with posting lists that grow with the site.
CREATE TABLE user_search_suffixes (
    site_id TEXT NOT NULL,
    suffix TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (site_id, suffix, user_id)
) WITHOUT ROWID;

-- The rows each user's text gives: its positions are enumerated with `json_each` over an
-- array as long as the text (a trigger may hold no `WITH`). Read for one user, the view is
-- a primary-key lookup of `users`.
CREATE VIEW user_search_suffixes_of_users AS
SELECT users.site_id AS site_id,
       substr(users.search_text, p.key + 1, 16) AS suffix,
       users.id AS user_id
FROM users,
     json_each('[' || replace(hex(zeroblob(length(users.search_text))), '00', '0,') || '0]') AS p
WHERE p.key + 3 <= length(users.search_text)
  AND substr(users.search_text, p.key + 1, 1) <> ' ';

INSERT OR IGNORE INTO user_search_suffixes (site_id, suffix, user_id)
SELECT site_id, suffix, user_id FROM user_search_suffixes_of_users;

-- Triggers keep the table in step with `users`, whoever writes the row: a user's suffixes
-- are removed before its text changes or the row goes (while the view still reads the old
-- text), and added after it is written.
CREATE TRIGGER user_search_suffixes_insert AFTER INSERT ON users BEGIN
    INSERT OR IGNORE INTO user_search_suffixes (site_id, suffix, user_id)
    SELECT site_id, suffix, user_id FROM user_search_suffixes_of_users WHERE user_id = new.id;
END;

CREATE TRIGGER user_search_suffixes_delete BEFORE DELETE ON users BEGIN
    DELETE FROM user_search_suffixes
    WHERE site_id = old.site_id AND user_id = old.id AND suffix IN (
        SELECT suffix FROM user_search_suffixes_of_users WHERE user_id = old.id
    );
END;

CREATE TRIGGER user_search_suffixes_update_before BEFORE UPDATE OF search_text ON users
WHEN new.search_text IS NOT old.search_text BEGIN
    DELETE FROM user_search_suffixes
    WHERE site_id = old.site_id AND user_id = old.id AND suffix IN (
        SELECT suffix FROM user_search_suffixes_of_users WHERE user_id = old.id
    );
END;

CREATE TRIGGER user_search_suffixes_update_after AFTER UPDATE OF search_text ON users
WHEN new.search_text IS NOT old.search_text BEGIN
    INSERT OR IGNORE INTO user_search_suffixes (site_id, suffix, user_id)
    SELECT site_id, suffix, user_id FROM user_search_suffixes_of_users WHERE user_id = new.id;
END;
