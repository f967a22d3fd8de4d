-- A user's own connection to the imaging (scan-referral) provider (SPEC §6.2); no row means
-- not connected, with details prefilled from the profile.
CREATE TABLE imaging_connections (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    site_id TEXT NOT NULL REFERENCES sites (id),
    -- not_connected | pending | connected | disconnected | forgotten
    state TEXT NOT NULL,
    -- connect | update | reconnect, while pending
    pending_action TEXT,
    -- the state the pending call started from (where a refusal leaves it)
    pending_from TEXT,
    title TEXT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    marketing_opt_in BOOLEAN NOT NULL,
    provider_user_id TEXT,
    -- whether the connection re-linked a provider user forgotten before
    relinked BOOLEAN NOT NULL,
    last_error TEXT,
    job_id TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX imaging_connections_site ON imaging_connections (site_id);

-- The provider users a user forgot, with the details they were made with: connecting again
-- with the same email re-links one.
CREATE TABLE imaging_forgotten (
    user_id TEXT NOT NULL REFERENCES users (id),
    provider_user_id TEXT NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    title TEXT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    marketing_opt_in BOOLEAN NOT NULL,
    forgotten_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, provider_user_id)
);
