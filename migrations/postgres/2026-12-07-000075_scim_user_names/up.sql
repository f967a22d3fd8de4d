-- SCIM's `userName` when an identity provider's login name is not the user's email: kept as
-- sent (`user_name`) and lower-cased (`user_name_normalized`); NULL when the userName is the
-- email. A user's SCIM userName is `coalesce(user_name_normalized, email_normalized)`
-- compared case-insensitively: unique in the site across both forms (the use-cases check it
-- under the site lock; this index is the backstop), and what `userName eq "…"` probes.
ALTER TABLE users ADD COLUMN user_name TEXT;
ALTER TABLE users ADD COLUMN user_name_normalized TEXT;
CREATE UNIQUE INDEX users_site_user_name ON users (site_id, (coalesce(user_name_normalized, email_normalized)));

-- SCIM's `emails.primary` as the identity provider sent it; NULL (never sent) reads `true`:
-- a user has one address.
ALTER TABLE users ADD COLUMN email_primary BOOLEAN;

-- SCIM's `externalId` of a Group: the identity provider's id of the clinic (case-exact).
ALTER TABLE clinics ADD COLUMN external_id TEXT;
