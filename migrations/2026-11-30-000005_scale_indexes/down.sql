DROP INDEX rdms_window_idx;
CREATE INDEX rdms_window_idx ON rdms (window_id) WHERE window_id IS NOT NULL;

DROP STATISTICS jobs_status_kind_stats;
DROP INDEX jobs_status_kind_idx, jobs_status_idx;
CREATE INDEX jobs_dead_idx ON jobs (id DESC) WHERE status = 'dead';
CREATE INDEX jobs_pending_idx ON jobs (id DESC) WHERE status = 'pending';
