-- A site's switch for the imaging (scan-referral) integration (SPEC §6.2): no row means off.
CREATE TABLE imaging_integrations (
    site_id TEXT PRIMARY KEY NOT NULL REFERENCES sites (id),
    enabled BOOLEAN NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL
);
