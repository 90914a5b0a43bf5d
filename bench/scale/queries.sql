-- The API's statements, as PostgreSQL receives them (from its log), for bench/scale.sh: the
-- RDM listing (changes/rdms/list.rs), the admin's job listing (queue/admin.rs), the claims
-- (queue/mod.rs), a member's RDMs (changes/notifications.rs), the metrics' backlog
-- (queue/admin.rs). Each: a `-- name:` line,
-- `-- types:` (the PREPARE parameter types), `-- args:` (the EXECUTE arguments), then the
-- statement, ending with `;` on its own line. A search is two statements: the newest
-- 40 × (limit + 1) RDMs in id order, then, only when they do not fill the page, the older
-- matches through the full-text index (page 51 rows: 2,040 probed).

-- name: rdms q=servidor (common word): newest
-- types: text, bigint, bigint, bigint
-- args: 'servidor', 9223372036854775807, 2039, 51
SELECT "rdms"."id", "rdms"."rdm_type", "rdms"."state", "rdms"."title", "rdms"."priority", "rdms"."risk", "rdms"."requester_id", "rdms"."meeting_id", "rdms"."window_id", "rdms"."version", "rdms"."updated_at"
FROM "rdms" WHERE ((search @@ (SELECT plainto_tsquery('portuguese', $1))) IS TRUE AND rdms.id >= COALESCE((SELECT r.id FROM rdms r WHERE r.id < $2 ORDER BY r.id DESC OFFSET $3 LIMIT 1), 0)) ORDER BY "rdms"."id" DESC LIMIT $4
;
-- name: rdms q=legado (one RDM in 50): newest
-- types: text, bigint, bigint, bigint
-- args: 'legado', 9223372036854775807, 2039, 51
SELECT "rdms"."id", "rdms"."rdm_type", "rdms"."state", "rdms"."title", "rdms"."priority", "rdms"."risk", "rdms"."requester_id", "rdms"."meeting_id", "rdms"."window_id", "rdms"."version", "rdms"."updated_at"
FROM "rdms" WHERE ((search @@ (SELECT plainto_tsquery('portuguese', $1))) IS TRUE AND rdms.id >= COALESCE((SELECT r.id FROM rdms r WHERE r.id < $2 ORDER BY r.id DESC OFFSET $3 LIMIT 1), 0)) ORDER BY "rdms"."id" DESC LIMIT $4
;
-- name: rdms q=legado (one RDM in 50): older
-- types: text, bigint, bigint, bigint
-- args: 'legado', 9223372036854775807, 2039, 11
SELECT "rdms"."id", "rdms"."rdm_type", "rdms"."state", "rdms"."title", "rdms"."priority", "rdms"."risk", "rdms"."requester_id", "rdms"."meeting_id", "rdms"."window_id", "rdms"."version", "rdms"."updated_at"
FROM "rdms" WHERE (search @@ plainto_tsquery('portuguese', $1) AND rdms.id + 0 < COALESCE((SELECT r.id FROM rdms r WHERE r.id < $2 ORDER BY r.id DESC OFFSET $3 LIMIT 1), 0)) ORDER BY rdms.id + 0 DESC LIMIT $4
;
-- name: rdms q=kerberos (rare word): newest
-- types: text, bigint, bigint, bigint
-- args: 'kerberos', 9223372036854775807, 2039, 51
SELECT "rdms"."id", "rdms"."rdm_type", "rdms"."state", "rdms"."title", "rdms"."priority", "rdms"."risk", "rdms"."requester_id", "rdms"."meeting_id", "rdms"."window_id", "rdms"."version", "rdms"."updated_at"
FROM "rdms" WHERE ((search @@ (SELECT plainto_tsquery('portuguese', $1))) IS TRUE AND rdms.id >= COALESCE((SELECT r.id FROM rdms r WHERE r.id < $2 ORDER BY r.id DESC OFFSET $3 LIMIT 1), 0)) ORDER BY "rdms"."id" DESC LIMIT $4
;
-- name: rdms q=kerberos (rare word): older
-- types: text, bigint, bigint, bigint
-- args: 'kerberos', 9223372036854775807, 2039, 51
SELECT "rdms"."id", "rdms"."rdm_type", "rdms"."state", "rdms"."title", "rdms"."priority", "rdms"."risk", "rdms"."requester_id", "rdms"."meeting_id", "rdms"."window_id", "rdms"."version", "rdms"."updated_at"
FROM "rdms" WHERE (search @@ plainto_tsquery('portuguese', $1) AND rdms.id + 0 < COALESCE((SELECT r.id FROM rdms r WHERE r.id < $2 ORDER BY r.id DESC OFFSET $3 LIMIT 1), 0)) ORDER BY rdms.id + 0 DESC LIMIT $4
;
-- name: rdms q=quasar (absent word): newest
-- types: text, bigint, bigint, bigint
-- args: 'quasar', 9223372036854775807, 2039, 51
SELECT "rdms"."id", "rdms"."rdm_type", "rdms"."state", "rdms"."title", "rdms"."priority", "rdms"."risk", "rdms"."requester_id", "rdms"."meeting_id", "rdms"."window_id", "rdms"."version", "rdms"."updated_at"
FROM "rdms" WHERE ((search @@ (SELECT plainto_tsquery('portuguese', $1))) IS TRUE AND rdms.id >= COALESCE((SELECT r.id FROM rdms r WHERE r.id < $2 ORDER BY r.id DESC OFFSET $3 LIMIT 1), 0)) ORDER BY "rdms"."id" DESC LIMIT $4
;
-- name: rdms q=quasar (absent word): older
-- types: text, bigint, bigint, bigint
-- args: 'quasar', 9223372036854775807, 2039, 51
SELECT "rdms"."id", "rdms"."rdm_type", "rdms"."state", "rdms"."title", "rdms"."priority", "rdms"."risk", "rdms"."requester_id", "rdms"."meeting_id", "rdms"."window_id", "rdms"."version", "rdms"."updated_at"
FROM "rdms" WHERE (search @@ plainto_tsquery('portuguese', $1) AND rdms.id + 0 < COALESCE((SELECT r.id FROM rdms r WHERE r.id < $2 ORDER BY r.id DESC OFFSET $3 LIMIT 1), 0)) ORDER BY rdms.id + 0 DESC LIMIT $4
;
-- name: rdms window_id=
-- types: bigint, bigint
-- args: (SELECT min(id) + 3 FROM maintenance_windows), 51
SELECT "rdms"."id", "rdms"."rdm_type", "rdms"."state", "rdms"."title", "rdms"."priority", "rdms"."risk", "rdms"."requester_id", "rdms"."meeting_id", "rdms"."window_id", "rdms"."version", "rdms"."updated_at"
FROM "rdms" WHERE ("rdms"."window_id" = $1) ORDER BY "rdms"."id" DESC LIMIT $2
;
-- name: involved member's RDMs
-- types: bigint
-- args: (SELECT min(id) + 5 FROM users WHERE username LIKE 'scale%')
SELECT "rdm_involved_members"."rdm_id" FROM "rdm_involved_members" WHERE ("rdm_involved_members"."user_id" = $1)
;
-- name: jobs status=pending kind=holiday_notice
-- types: bigint
-- args: 51
SELECT "jobs"."id", "jobs"."kind", "jobs"."payload", "jobs"."dedup_key", "jobs"."status", "jobs"."run_at", "jobs"."attempts", "jobs"."max_attempts", "jobs"."last_error", "jobs"."created_at", "jobs"."finished_at"
FROM "jobs" WHERE (jobs.status = 'pending' AND jobs.kind = 'holiday_notice') ORDER BY "jobs"."id" DESC LIMIT $1
;
-- name: jobs status=dead kind=mail
-- types: bigint
-- args: 51
SELECT "jobs"."id", "jobs"."kind", "jobs"."payload", "jobs"."dedup_key", "jobs"."status", "jobs"."run_at", "jobs"."attempts", "jobs"."max_attempts", "jobs"."last_error", "jobs"."created_at", "jobs"."finished_at"
FROM "jobs" WHERE (jobs.status = 'dead' AND jobs.kind = 'mail') ORDER BY "jobs"."id" DESC LIMIT $1
;
-- name: jobs status=pending
-- types: bigint
-- args: 51
SELECT "jobs"."id", "jobs"."kind", "jobs"."payload", "jobs"."dedup_key", "jobs"."status", "jobs"."run_at", "jobs"."attempts", "jobs"."max_attempts", "jobs"."last_error", "jobs"."created_at", "jobs"."finished_at"
FROM "jobs" WHERE jobs.status = 'pending' ORDER BY "jobs"."id" DESC LIMIT $1
;
-- name: jobs status=done
-- known: done jobs are most of the table, so PostgreSQL walks the ids; behind a backlog of 72,000 newer pending and dead jobs that walk is long
-- types: bigint
-- args: 51
SELECT "jobs"."id", "jobs"."kind", "jobs"."payload", "jobs"."dedup_key", "jobs"."status", "jobs"."run_at", "jobs"."attempts", "jobs"."max_attempts", "jobs"."last_error", "jobs"."created_at", "jobs"."finished_at"
FROM "jobs" WHERE jobs.status = 'done' ORDER BY "jobs"."id" DESC LIMIT $1
;
-- name: jobs status=done kind=mail
-- known: done jobs are most of the table, so PostgreSQL walks the ids; behind a backlog of 72,000 newer pending and dead jobs that walk is long
-- types: bigint
-- args: 51
SELECT "jobs"."id", "jobs"."kind", "jobs"."payload", "jobs"."dedup_key", "jobs"."status", "jobs"."run_at", "jobs"."attempts", "jobs"."max_attempts", "jobs"."last_error", "jobs"."created_at", "jobs"."finished_at"
FROM "jobs" WHERE (jobs.status = 'done' AND jobs.kind = 'mail') ORDER BY "jobs"."id" DESC LIMIT $1
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
-- name: metrics: due jobs by kind
-- types: timestamptz, bigint
-- args: now(), 100000
SELECT kind, count(*) AS due, min(run_at) AS oldest FROM (
       (SELECT kind, run_at FROM jobs
        WHERE status = 'pending' AND lane = 'timers' AND run_at <= $1
        ORDER BY run_at, id LIMIT $2)
       UNION ALL
       (SELECT kind, run_at FROM jobs
        WHERE status = 'pending' AND lane = 'deliveries' AND run_at <= $1
        ORDER BY run_at, id LIMIT $2)
     ) d GROUP BY kind
;
