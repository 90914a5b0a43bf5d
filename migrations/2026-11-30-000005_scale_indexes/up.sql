-- Queries that cost what they return, not the table's size (measured with 100,000 RDMs and
-- 2,000,000 jobs by bench/scale.sh).

-- The admin's job listings, newest first, by status and by status and kind. Two indexes led
-- by the status replace the partial indexes of pending and dead jobs: walking one of those in
-- id order and skipping other kinds looked cheaper to the planner than reading the kind's
-- own entries (a kind can be common among done jobs and rare among pending ones, which the
-- statistics of the two columns together tell only when the sample happens to hold it).
-- The listing writes the status and a registered kind into its SQL, as the claims do, so a
-- generic plan (a pooler in transaction mode) is made for them too.
DROP INDEX jobs_pending_idx, jobs_dead_idx;
CREATE INDEX jobs_status_idx ON jobs (status, id DESC);
CREATE INDEX jobs_status_kind_idx ON jobs (status, kind, id DESC);
CREATE STATISTICS jobs_status_kind_stats (mcv) ON status, kind FROM jobs;

-- A window's RDMs, newest first, read a page rather than sorting the window.
DROP INDEX rdms_window_idx;
CREATE INDEX rdms_window_idx ON rdms (window_id, id DESC) WHERE window_id IS NOT NULL;
