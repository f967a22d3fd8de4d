-- The user list's `q` (a substring of title, names and email) served by an index: an FTS5
-- table with the trigram tokenizer over `users.search_text`, keyed by the users rowid
-- (external content: the text is not stored twice). Triggers keep it in step with `users`.
-- A quoted FTS5 phrase of three or more characters matches exactly the rows containing it.
--
-- The rowid of a table without an INTEGER PRIMARY KEY can change under a manual `VACUUM`;
-- Staffroom never runs one. After one, rebuild the index:
--   INSERT INTO users_search (users_search) VALUES ('rebuild');
CREATE VIRTUAL TABLE users_search USING fts5 (
    search_text,
    content = 'users',
    content_rowid = 'rowid',
    tokenize = 'trigram'
);
INSERT INTO users_search (users_search) VALUES ('rebuild');

CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, search_text) VALUES (new.rowid, new.search_text);
END;

CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_search (users_search, rowid, search_text)
    VALUES ('delete', old.rowid, old.search_text);
END;

CREATE TRIGGER users_search_update AFTER UPDATE OF search_text ON users BEGIN
    INSERT INTO users_search (users_search, rowid, search_text)
    VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO users_search (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
