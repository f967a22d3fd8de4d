-- Foundation: sites, clinics, users with their permissions and clinic access,
-- service accounts and the audit log. Ids are UUID text; timestamps are UTC.
CREATE TABLE sites (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    plan TEXT NOT NULL,
    licences BIGINT NOT NULL,
    settings TEXT NOT NULL,
    lock_version BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE clinics (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    search_text TEXT NOT NULL,
    assistants_may_finish_notes BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX clinics_site_id ON clinics (site_id, id);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    title TEXT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    search_text TEXT NOT NULL,
    sort_first_name TEXT NOT NULL,
    sort_last_name TEXT NOT NULL,
    user_type TEXT NOT NULL,
    profession TEXT NOT NULL,
    status TEXT NOT NULL,
    default_clinic_id TEXT NOT NULL REFERENCES clinics (id),
    diary_enabled BOOLEAN NOT NULL,
    password_hash TEXT,
    last_login_at TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_site_email ON users (site_id, email_normalized);
CREATE INDEX users_email ON users (email_normalized);
CREATE INDEX users_site_last_name ON users (site_id, sort_last_name, id);
CREATE INDEX users_site_first_name ON users (site_id, sort_first_name, id);
CREATE INDEX users_site_created ON users (site_id, created_at, id);

CREATE TABLE user_permissions (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the user's site, copied for set-based queries (the user reference implies it)
    site_id TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (user_id, permission)
);
CREATE INDEX user_permissions_site ON user_permissions (site_id, permission);

CREATE TABLE user_clinics (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    clinic_id TEXT NOT NULL REFERENCES clinics (id),
    -- the user's site, copied for set-based queries (the user reference implies it)
    site_id TEXT NOT NULL,
    PRIMARY KEY (user_id, clinic_id)
);
CREATE INDEX user_clinics_clinic ON user_clinics (clinic_id, user_id);

CREATE TABLE service_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    client_id TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    permissions TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX service_accounts_client_id ON service_accounts (client_id);
CREATE INDEX service_accounts_site ON service_accounts (site_id, id);

-- Append-only: no foreign keys, so writing thousands of events checks nothing per row.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    on_behalf_of TEXT,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT,
    before_state TEXT,
    after_state TEXT,
    request_id TEXT
);
CREATE INDEX audit_events_site ON audit_events (site_id, id);
CREATE INDEX audit_events_target ON audit_events (site_id, target_id);
