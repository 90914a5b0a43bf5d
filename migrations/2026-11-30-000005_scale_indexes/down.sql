DROP INDEX rdms_window_idx;
CREATE INDEX rdms_window_idx ON rdms (window_id) WHERE window_id IS NOT NULL;

DROP STATISTICS jobs_status_kind_stats;
DROP INDEX jobs_status_kind_idx;
