-- Invitations of users created without a password (SPEC §7): the emailed token, stored
-- only as its SHA-256, single-use, expiring; a resend supersedes the earlier one.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    email TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    superseded_at TIMESTAMP
);
CREATE INDEX invitations_user ON invitations (user_id, created_at);
