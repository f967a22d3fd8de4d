-- Long-lived bearer tokens of a site's SCIM clients (identity providers). Only the
-- token's SHA-256 digest is stored; it is shown once, when issued.
CREATE TABLE scim_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX scim_tokens_site ON scim_tokens (site_id, id);
