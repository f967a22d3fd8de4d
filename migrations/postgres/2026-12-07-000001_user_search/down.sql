DROP INDEX users_search_trgm;
