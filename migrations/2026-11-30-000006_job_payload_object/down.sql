ALTER TABLE jobs DROP CONSTRAINT jobs_payload_is_object;
