-- Timers cost what is due, not the table's size: fill `jobs` with 2 million finished rows and
-- 50 thousand future ones, then look at the claim a worker runs when it polls.
-- Run against a scratch database migrated by `gmud migrate`:
--   psql -h 127.0.0.1 -U postgres -d gmud_bench -f bench/jobs_claim.sql
INSERT INTO jobs (kind, payload, status, run_at, attempts, max_attempts, created_at, finished_at)
SELECT 'mail', '{}'::jsonb, 'done', now() - interval '30 days' + (g || ' seconds')::interval, 1, 8, now(), now()
FROM generate_series(1, 2000000) g;
INSERT INTO jobs (kind, payload, status, run_at, attempts, max_attempts, created_at)
SELECT 'mail', '{}'::jsonb, 'pending', now() + (g || ' minutes')::interval, 0, 8, now()
FROM generate_series(1, 50000) g;
ANALYZE jobs;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT id FROM jobs WHERE status = 'pending' AND run_at <= now()
ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED;
