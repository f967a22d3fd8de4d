-- SCIM's `externalId`: the identity provider's own id for the user (case-exact), found by
-- `externalId eq "…"` filters through the index.
ALTER TABLE users ADD COLUMN external_id TEXT;
CREATE INDEX users_site_external_id ON users (site_id, external_id);
