-- One home for each part: the job queue knows no job kinds and has two lanes; keys that make
-- a job exist once outlive the jobs.

-- Timers run inside the transaction that claims them; deliveries (mail, webhooks) are
-- claimed with a lease and run holding no connection. Each lane has its own workers.
CREATE TYPE job_lane AS ENUM ('timers', 'deliveries');
ALTER TABLE jobs ADD COLUMN lane job_lane NOT NULL DEFAULT 'timers';
UPDATE jobs SET lane = 'deliveries' WHERE kind = 'mail';
ALTER TABLE jobs ALTER COLUMN lane DROP DEFAULT;
-- A job kind is the name a registered job type declares.
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_name CHECK (kind ~ '^[a-z][a-z0-9_]*$');

-- The keys that make a job exist once (one e-mail per event and recipient, one timer per
-- instant). Kept apart so that pruning done jobs does not forget them; `keep_until` says
-- when a key may be forgotten (NULL: never).
CREATE TABLE job_keys (
  key TEXT PRIMARY KEY,
  keep_until TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL
);
INSERT INTO job_keys (key, keep_until, created_at)
  SELECT dedup_key, NULL, created_at FROM jobs WHERE dedup_key IS NOT NULL;
CREATE INDEX job_keys_keep_until_idx ON job_keys (keep_until) WHERE keep_until IS NOT NULL;
ALTER TABLE jobs DROP CONSTRAINT jobs_dedup_key_key;

-- What each lane's workers claim: due pending jobs of the lane, the constants in the index
-- predicate as in the claim's SQL.
DROP INDEX jobs_due_idx;
CREATE INDEX jobs_due_timers_idx ON jobs (run_at, id) WHERE status = 'pending' AND lane = 'timers';
CREATE INDEX jobs_due_deliveries_idx ON jobs (run_at, id) WHERE status = 'pending' AND lane = 'deliveries';
-- What the daily prune deletes.
CREATE INDEX jobs_done_idx ON jobs (finished_at) WHERE status = 'done';
