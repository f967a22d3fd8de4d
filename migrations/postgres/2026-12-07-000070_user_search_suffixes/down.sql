DROP TRIGGER user_search_suffixes_update ON users;
DROP TRIGGER user_search_suffixes_insert_delete ON users;
DROP FUNCTION user_search_suffixes_sync();
DROP TABLE user_search_suffixes;
DROP FUNCTION user_search_suffixes_of(TEXT);
