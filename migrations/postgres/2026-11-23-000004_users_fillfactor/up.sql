-- Leave a fifth of each users page free so that bumping version/updated_at (every access
-- change, bulk updates of thousands of users) is a HOT update: the new row version stays on
-- its page and none of the users indexes is touched.
ALTER TABLE users SET (fillfactor = 80);
