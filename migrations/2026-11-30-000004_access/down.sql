DROP TRIGGER users_notify_access ON users;
DROP FUNCTION users_notify_access();
DROP TRIGGER users_bump_token_version ON users;
DROP FUNCTION users_bump_token_version();
ALTER TABLE users DROP COLUMN token_version;
-- 'user' stays in entity_kind: PostgreSQL cannot drop an enum value (events may name it).
