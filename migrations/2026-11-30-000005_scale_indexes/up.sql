-- Queries that cost what they return, not the table's size (measured with 100,000 RDMs and
-- 2,000,000 jobs by bench/scale.sh).

-- The admin's job listings, newest first. By status: the partial indexes of pending and dead
-- jobs. By status and kind: one index on both, and statistics of the two together (a kind
-- can be common among done jobs and rare among pending ones). The listing writes the status and a registered kind into its SQL, as
-- the claims do, so that a generic plan (a pooler in transaction mode) plans for them too.
CREATE INDEX jobs_status_kind_idx ON jobs (status, kind, id DESC);
CREATE STATISTICS jobs_status_kind_stats (mcv) ON status, kind FROM jobs;

-- A window's RDMs, newest first, read a page rather than sorting the window.
DROP INDEX rdms_window_idx;
CREATE INDEX rdms_window_idx ON rdms (window_id, id DESC) WHERE window_id IS NOT NULL;
