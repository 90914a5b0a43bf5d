-- pgbench: least-create.sql and the two SLA breach timers the API queues with every ticket
-- (each job's key claimed in job_keys, then the job), in one statement. (chr(58) is ':', which
-- pgbench would read as a variable inside a quoted string.) Variables (pgbench -D): org,
-- requester, item, queue, calendar (the demo's customer.acme, eSocial, its queue and the
-- organisation's calendar).
\set p random(1, 4)
WITH tg AS (
  SELECT s.priority, s.response_minutes * 60 AS r_s, s.resolution_minutes * 60 AS s_s
  FROM sla_targets s
  WHERE s.item_id = :item AND s.priority = (ARRAY['low', 'medium', 'high', 'critical']::priority[])[:p]
  ORDER BY s.valid_from DESC LIMIT 1
), t AS (
  INSERT INTO tickets (organization_id, kind, item_id, title, description, priority, state, queue_id, team,
    requester_id, calendar_id, round_the_clock, opened_at, received_at, sla_pinned_at,
    response_target_s, response_running_since, response_due_at,
    resolution_target_s, resolution_running_since, resolution_due_at, updated_at)
  SELECT :org, 'incident', :item, 'Carga: erro ao transmitir o evento S-1200', 'O retorno do governo veio com rejeição.',
    tg.priority, 'new', :queue, 'rh', :requester, :calendar, false, now(), now(), now(),
    tg.r_s, now(), now() + tg.r_s * interval '1 s', tg.s_s, now(), now() + tg.s_s * interval '1 s', now()
  FROM tg
  RETURNING *
), e AS (
  INSERT INTO events (entity, entity_id, action, to_state, actor_id, detail, at)
  SELECT 'ticket', t.id, 'open', 'new', :requester,
    jsonb_build_object('route', jsonb_build_object('queue_id', :queue::bigint, 'queue', 'rh'), 'targets',
      jsonb_build_object('first_response_minutes', t.response_target_s / 60, 'resolution_minutes', t.resolution_target_s / 60)),
    now()
  FROM t
), k AS (
  INSERT INTO job_keys (key, keep_until, created_at)
  SELECT concat_ws(chr(58), 'ticket', t.id, c.clock, 'due', (extract(epoch FROM c.due) * 1000000)::bigint),
    c.due + interval '30 days', now()
  FROM t, LATERAL (VALUES ('first_response', t.response_due_at), ('resolution', t.resolution_due_at)) c(clock, due)
  RETURNING key
), j AS (
  INSERT INTO jobs (kind, lane, payload, dedup_key, run_at, max_attempts, created_at)
  SELECT 'sla_breach', 'timers', jsonb_build_object('ticket_id', t.id, 'clock', c.clock, 'due_at', c.due),
    concat_ws(chr(58), 'ticket', t.id, c.clock, 'due', (extract(epoch FROM c.due) * 1000000)::bigint), c.due, 5, now()
  FROM t, LATERAL (VALUES ('first_response', t.response_due_at), ('resolution', t.resolution_due_at)) c(clock, due)
)
SELECT id, state, priority, response_due_at, resolution_due_at FROM t;
