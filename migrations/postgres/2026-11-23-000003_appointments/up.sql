-- Bookings of clinical users. Appointments outlive the diary: a user who loses their diary
-- keeps their past appointments in the report.
CREATE TABLE appointments (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    clinic_id TEXT NOT NULL REFERENCES clinics (id),
    client_ref TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX appointments_user ON appointments (user_id, starts_at, id);
CREATE INDEX appointments_site ON appointments (site_id, starts_at, id);
CREATE INDEX appointments_clinic ON appointments (clinic_id);
