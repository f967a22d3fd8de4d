CREATE TABLE invitations_old (
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
INSERT INTO invitations_old
    SELECT id, site_id, user_id, email, token_hash, created_at, expires_at, accepted_at,
        superseded_at
    FROM invitations WHERE user_id IS NOT NULL;
DROP TABLE invitations;
ALTER TABLE invitations_old RENAME TO invitations;
CREATE INDEX invitations_user ON invitations (user_id, created_at);
DROP TABLE assistants;
DROP TABLE assistant_accounts;
