DROP INDEX jobs_done_idx;
DROP INDEX jobs_due_deliveries_idx;
DROP INDEX jobs_due_timers_idx;
CREATE INDEX jobs_due_idx ON jobs (run_at, id) WHERE status = 'pending';
ALTER TABLE jobs ADD CONSTRAINT jobs_dedup_key_key UNIQUE (dedup_key);
DROP TABLE job_keys;
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_name;
ALTER TABLE jobs DROP COLUMN lane;
DROP TYPE job_lane;
