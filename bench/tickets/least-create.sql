-- pgbench: the least SQL that stores what POST /api/v1/tickets stores, in one statement: the
-- ticket (routed to the item's queue, its two SLA clocks started with the item's targets for
-- the priority) and its `open` event, returning the row. (least-create-timers.sql adds the two
-- breach timers the API queues with every ticket.) Variables (pgbench -D): org,
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
)
SELECT id, state, priority, response_due_at, resolution_due_at FROM t;
