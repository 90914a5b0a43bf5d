-- A job's payload is a JSON object (the API documents it so): ticks queued before their type
-- had fields stored JSON `null`. Read as an object now, and kept one.
UPDATE jobs SET payload = '{}'::jsonb WHERE jsonb_typeof(payload) IS DISTINCT FROM 'object';
ALTER TABLE jobs ADD CONSTRAINT jobs_payload_is_object CHECK (jsonb_typeof(payload) = 'object');
