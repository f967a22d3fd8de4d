DROP TABLE audit_events;
DROP TABLE service_accounts;
DROP TABLE user_clinics;
DROP TABLE user_permissions;
DROP TABLE users;
DROP TABLE clinics;
DROP TABLE sites;
