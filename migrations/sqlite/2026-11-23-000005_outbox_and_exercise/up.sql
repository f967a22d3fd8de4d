-- The outbox (SPEC §9): provider operations, written in the transaction of the state change
-- they carry out and worked by whichever process holds the lease.
CREATE TABLE outbox_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    -- exercise.create_user | exercise.delete_user | email.send
    kind TEXT NOT NULL,
    -- the user the job is about, if any
    subject_id TEXT,
    -- kind-specific JSON
    payload TEXT NOT NULL,
    -- sent with every attempt, so a retry never does the work twice at the provider
    idempotency_key TEXT NOT NULL,
    -- pending | succeeded | failed
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    leased_until TIMESTAMP,
    lease_owner TEXT,
    last_error TEXT,
    -- the provider's answer to the last successful attempt, JSON
    result TEXT,
    -- who asked for it, carried into the audit events written when it finishes
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    request_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX outbox_jobs_due ON outbox_jobs (status, next_attempt_at);
CREATE INDEX outbox_jobs_site ON outbox_jobs (site_id, id);
CREATE INDEX outbox_jobs_subject ON outbox_jobs (subject_id);

-- A site's connection to the exercise-prescription provider (SPEC §6.1).
CREATE TABLE exercise_integrations (
    site_id TEXT PRIMARY KEY NOT NULL REFERENCES sites (id),
    clm_id TEXT NOT NULL,
    clinic_name TEXT NOT NULL,
    connected_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

-- A user's state at the exercise provider; no row means not added with guessed names.
CREATE TABLE exercise_users (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    site_id TEXT NOT NULL,
    clm_id TEXT NOT NULL,
    -- not_added | pending | active | deactivated
    state TEXT NOT NULL,
    -- add | deactivate | reactivate, while pending
    pending_action TEXT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    provider_user_id TEXT,
    last_error TEXT,
    job_id TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX exercise_users_site ON exercise_users (site_id, user_id);

-- Mail kept by the embedded email sink (no STAFFROOM_EMAIL_URL): `staffroom mail list`.
CREATE TABLE sent_mail (
    id TEXT PRIMARY KEY NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL
);
CREATE INDEX sent_mail_to ON sent_mail (to_address, sent_at);
