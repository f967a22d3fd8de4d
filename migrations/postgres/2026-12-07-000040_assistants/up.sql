-- Assistants (SPEC §7). An assistant *account* is one person of a site who signs in
-- (email unique per site, case-insensitive; never a site user, so no licence); an
-- *assistant* record links that account to one clinician, with its status. One person may
-- assist several clinicians (one record each); deleting a record removes it for good and a
-- later invitation makes a new one. `token_generation` moves when a record is revoked or
-- deleted: tokens issued under an earlier generation are refused.
CREATE TABLE assistant_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    full_name TEXT NOT NULL,
    password_hash TEXT,
    last_login_at TIMESTAMP,
    token_generation BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (site_id, email_normalized)
);
CREATE INDEX assistant_accounts_email ON assistant_accounts (email_normalized);

CREATE TABLE assistants (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    clinician_id TEXT NOT NULL REFERENCES users (id),
    account_id TEXT NOT NULL REFERENCES assistant_accounts (id),
    full_name TEXT NOT NULL,
    status TEXT NOT NULL,
    invited_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    revoked_at TIMESTAMP,
    version BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX assistants_clinician ON assistants (clinician_id, id);
CREATE INDEX assistants_account ON assistants (account_id);

-- An invitation invites a user or an assistant record, exactly one. `assistant_id` has no
-- foreign key: a deleted record's links stay, so they answer `410` and not `404`.
ALTER TABLE invitations ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE invitations ADD COLUMN assistant_id TEXT;
ALTER TABLE invitations ADD CONSTRAINT invitations_one_invitee
    CHECK ((user_id IS NULL) <> (assistant_id IS NULL));
CREATE INDEX invitations_assistant ON invitations (assistant_id, created_at);
