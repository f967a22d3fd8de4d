DROP INDEX users_sort_keys;
