-- The API's statements as on main before the scale indexes (7 queries), for bench/scale.sh.
-- Each: a `-- name:` line, `-- types:` (the PREPARE parameter types), `-- args:` (the EXECUTE
-- arguments), then the statement, ending with `;` on its own line.

-- name: rdms q=servidor (common word)
-- types: text, bigint
-- args: 'servidor', 51
SELECT id, rdm_type, state, title, priority, risk, requester_id, meeting_id, window_id, version, updated_at
FROM rdms WHERE search @@ plainto_tsquery('portuguese', $1) ORDER BY id DESC LIMIT $2
;
-- name: rdms q=legado (one RDM in 50)
-- types: text, bigint
-- args: 'legado', 51
SELECT id, rdm_type, state, title, priority, risk, requester_id, meeting_id, window_id, version, updated_at
FROM rdms WHERE search @@ plainto_tsquery('portuguese', $1) ORDER BY id DESC LIMIT $2
;
-- name: rdms q=kerberos (rare word)
-- types: text, bigint
-- args: 'kerberos', 51
SELECT id, rdm_type, state, title, priority, risk, requester_id, meeting_id, window_id, version, updated_at
FROM rdms WHERE search @@ plainto_tsquery('portuguese', $1) ORDER BY id DESC LIMIT $2
;
-- name: rdms q=quasar (absent word)
-- types: text, bigint
-- args: 'quasar', 51
SELECT id, rdm_type, state, title, priority, risk, requester_id, meeting_id, window_id, version, updated_at
FROM rdms WHERE search @@ plainto_tsquery('portuguese', $1) ORDER BY id DESC LIMIT $2
;
-- name: rdms window_id=
-- types: bigint, bigint
-- args: (SELECT min(id) + 3 FROM maintenance_windows), 51
SELECT id, rdm_type, state, title, priority, risk, requester_id, meeting_id, window_id, version, updated_at
FROM rdms WHERE window_id = $1 ORDER BY id DESC LIMIT $2
;
-- name: involved member's RDMs
-- types: bigint
-- args: (SELECT min(id) + 5 FROM users WHERE username LIKE 'scale%')
SELECT rdm_id FROM rdm_involved_members WHERE user_id = $1
;
-- name: jobs status=pending kind=holiday_notice
-- types: job_status, text, bigint
-- args: 'pending', 'holiday_notice', 51
SELECT id, kind, payload, dedup_key, status, run_at, attempts, max_attempts, last_error, created_at, finished_at
FROM jobs WHERE status = $1 AND kind = $2 ORDER BY id DESC LIMIT $3
;
-- name: jobs status=dead kind=mail
-- types: job_status, text, bigint
-- args: 'dead', 'mail', 51
SELECT id, kind, payload, dedup_key, status, run_at, attempts, max_attempts, last_error, created_at, finished_at
FROM jobs WHERE status = $1 AND kind = $2 ORDER BY id DESC LIMIT $3
;
-- name: jobs status=pending
-- types: job_status, bigint
-- args: 'pending', 51
SELECT id, kind, payload, dedup_key, status, run_at, attempts, max_attempts, last_error, created_at, finished_at
FROM jobs WHERE status = $1 ORDER BY id DESC LIMIT $2
;
-- name: jobs status=done
-- known: done jobs are most of the table, so PostgreSQL walks the ids; behind a backlog of 72,000 newer pending and dead jobs that walk is long
-- types: job_status, bigint
-- args: 'done', 51
SELECT id, kind, payload, dedup_key, status, run_at, attempts, max_attempts, last_error, created_at, finished_at
FROM jobs WHERE status = $1 ORDER BY id DESC LIMIT $2
;
-- name: jobs status=done kind=mail
-- known: done jobs are most of the table, so PostgreSQL walks the ids; behind a backlog of 72,000 newer pending and dead jobs that walk is long
-- types: job_status, text, bigint
-- args: 'done', 'mail', 51
SELECT id, kind, payload, dedup_key, status, run_at, attempts, max_attempts, last_error, created_at, finished_at
FROM jobs WHERE status = $1 AND kind = $2 ORDER BY id DESC LIMIT $3
;
-- name: worker claim (timers)
-- types: timestamptz
-- args: now()
SELECT id, kind, payload, attempts, max_attempts FROM jobs
WHERE status = 'pending' AND lane = 'timers' AND run_at <= $1
ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
;
-- name: worker claim (deliveries)
-- types: timestamptz, timestamptz
-- args: now(), now() + interval '1 minute'
UPDATE jobs SET run_at = $2, attempts = attempts + 1
WHERE id = (SELECT id FROM jobs
            WHERE status = 'pending' AND lane = 'deliveries' AND run_at <= $1
            ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id, kind, payload, attempts - 1 AS attempts, max_attempts
;
