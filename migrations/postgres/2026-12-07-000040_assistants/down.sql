DROP INDEX invitations_assistant;
DELETE FROM invitations WHERE user_id IS NULL;
ALTER TABLE invitations DROP CONSTRAINT invitations_one_invitee;
ALTER TABLE invitations DROP COLUMN assistant_id;
ALTER TABLE invitations ALTER COLUMN user_id SET NOT NULL;
DROP TABLE assistants;
DROP TABLE assistant_accounts;
