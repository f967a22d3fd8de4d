DROP TABLE sent_mail;
DROP TABLE exercise_users;
DROP TABLE exercise_integrations;
DROP TABLE outbox_jobs;
