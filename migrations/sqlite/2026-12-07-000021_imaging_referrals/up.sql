-- Scan referrals made through the imaging integration (SPEC §6.2), sent to the provider
-- through the outbox; readable by every user of the site, after a forget too.
CREATE TABLE imaging_referrals (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    -- the referring user
    user_id TEXT NOT NULL REFERENCES users (id),
    provider_user_id TEXT NOT NULL,
    patient_name TEXT NOT NULL,
    body_part TEXT NOT NULL,
    notes TEXT,
    -- pending | sent | failed | reported
    status TEXT NOT NULL,
    provider_referral_id TEXT,
    last_error TEXT,
    job_id TEXT,
    report_summary TEXT,
    -- JSON array of image links
    report_images TEXT,
    reported_at TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX imaging_referrals_site ON imaging_referrals (site_id, id);
CREATE INDEX imaging_referrals_provider ON imaging_referrals (provider_referral_id);
