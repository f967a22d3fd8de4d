-- A user deleted through SCIM (`DELETE /scim/v2/Users/{id}`, RFC 7644 §3.6): the record
-- stays (deactivated) for history and REST, but every /scim/v2 operation on it answers 404
-- and SCIM lists never show it.
ALTER TABLE users ADD COLUMN scim_deleted_at TIMESTAMP;
