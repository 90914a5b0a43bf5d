-- Access that can be taken back: a user's tokens carry the user's token_version; the server
-- keeps each user's access (active, roles, version) in memory and drops an entry when
-- PostgreSQL notifies that the row changed, on every instance.
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;

-- Deactivating (or reactivating) an account or changing its password ends every token
-- issued before: reactivation must not bring old tokens back.
CREATE FUNCTION users_bump_token_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.active IS DISTINCT FROM OLD.active OR NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
    NEW.token_version := OLD.token_version + 1;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER users_bump_token_version BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION users_bump_token_version();

-- Delivered at commit, to every listening instance.
CREATE FUNCTION users_notify_access() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gmud_user_access', COALESCE(NEW.id, OLD.id)::text);
  RETURN NULL;
END $$;
CREATE TRIGGER users_notify_access AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION users_notify_access();

-- Account changes (deactivation, roles) go to the one event log.
ALTER TYPE entity_kind ADD VALUE 'user';
